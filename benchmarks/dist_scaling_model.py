"""On paper: data-parallel scaling of every zoo model to 8-64 nodes of this machine's kind.

Model (weak scaling: each node keeps its local batch of 64 at 32x32, 224x224 for the ImageNet
ResNets), as in Note [Data parallelism] (NOTES.md):
  step      = measured or FLOP-scaled time of one training step on one node (2 cores)
  all-reduce (ring, bucketed) of the gradient slab, S = 4 * params bytes, N nodes, link B, latency a:
            t_ar = 2 (N-1)/N * S / B  +  2 (N-1) * a * buckets,   buckets = ceil(S / bucket)
  overlap: buckets are summed while backward runs (about 2/3 of the step), so only
            exposed = max(0, t_ar - 2/3 step) adds to the step.
  the step is communication-bound when t_ar > 2/3 step (the all-reduce no longer hides).
Step times: measured img/s where given (--measured name=img_s ...), else scaled from the first
measured model by forward FLOPs (same achieved FLOP/s). Params and FLOPs come from `stablekd models`.

Usage: python3 benchmarks/dist_scaling_model.py --measured resnet20=626 resnet56=... [--latency-us 20]
"""
import argparse, math, re, subprocess, os

ap = argparse.ArgumentParser()
ap.add_argument("--measured", nargs="+", default=["resnet20=626"], help="model=img/s at batch 64, 1 node")
ap.add_argument("--latency-us", type=float, default=20.0, help="per-hop latency of the network (MPI over TCP: 10-50 us)")
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--bucket-mb", type=float, default=1.0, help="gradient bucket (stablekd --dist-bucket-mb)")
a = ap.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
text = subprocess.run([os.path.join(root, "stablekd"), "models"], capture_output=True, text=True, check=True).stdout
models = {}
for line in text.splitlines():
    m = re.match(r"^(\S+)\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)", line)
    if m and m.group(1) != "model":
        models[m.group(1)] = (int(m.group(2).replace(",", "")), float(m.group(4)))   # params, MFLOPs per image

measured = {k: float(v) for k, v in (s.split("=") for s in a.measured)}
ref = next(iter(measured))
flops_per_s = models[ref][1] * 1e6 * 3 * a.batch * measured[ref] / a.batch   # fwd + bwd = 3x forward FLOPs

def step_seconds(name):
    if name in measured:
        return a.batch / measured[name], "measured"
    return models[name][1] * 1e6 * 3 * a.batch / flops_per_s, "scaled"

links = {"10 Gb/s": 10e9 / 8, "25 Gb/s": 25e9 / 8, "100 Gb/s": 100e9 / 8}
print(f"Ring all-reduce of the gradient slab against one step on a node (batch {a.batch}); latency {a.latency_us:.0f} us per hop, {a.bucket_mb:g} MB buckets.")
print(f"Achieved training rate for scaled rows: {flops_per_s / 1e9:.0f} GFLOP/s (from {ref} at {measured[ref]:.0f} img/s).\n")
print("| model | params | gradient MB | step s (1 node) | " + " | ".join(f"all-reduce ms, 64 nodes, {l}" for l in links) +
      " | exposed at 64 nodes, 10 Gb/s | node speed-up before comm-bound (10 / 100 Gb/s) |")
print("|---|---:|---:|---:|" + "---:|" * len(links) + "---:|---:|")
for name, (params, mflops) in models.items():
    S = 4 * params
    step, how = step_seconds(name)
    buckets = math.ceil(S / (a.bucket_mb * 1e6))
    def t_ar(n, bw):
        return 2 * (n - 1) / n * S / bw + 2 * (n - 1) * a.latency_us * 1e-6 * buckets
    ars = [t_ar(64, bw) for bw in links.values()]
    exposed = max(0.0, ars[0] - 2 / 3 * step)
    # a node this many times faster makes 2/3 step == t_ar: beyond it the step waits for the network
    speed10, speed100 = (2 / 3 * step) / ars[0], (2 / 3 * step) / ars[2]
    print(f"| {name} | {params / 1e6:.2f} M | {S / 1e6:.1f} | {step:.2f} ({how}) | " + " | ".join(f"{t * 1e3:.0f}" for t in ars) +
          f" | {exposed * 1e3:.0f} ms | {speed10:.0f}× / {speed100:.0f}× |")
print("\nAt 8, 16 and 32 nodes the bandwidth term is 0.88, 0.94 and 0.97 of the 64-node one (2 (N-1)/N); the latency term grows with N.")

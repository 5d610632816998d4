"""Driver of compare_train_interleaved.sh: our training step and PyTorch's, alternated block by block.

Why: on a shared 2-vCPU host the speed of both engines moves by up to a third from one minute to the
next (results/cpu.md); compare_train_step.sh's rounds run JMH and PyTorch in turn, minutes apart, and
one round's ratio moved 0.86-1.53. Here both sides stay warm in their own process (our
TrainStepServe, pytorch_train_step.py --serve) and take turns in blocks of about --block seconds, so
every minute of the host is sampled by both; the idle side waits on its stdin, using no CPU.

Per workload: build both; warm-up (our JIT, torch.compile's compiles); one calibration block per
side, after which PyTorch variants slower than 1.15x its fastest are dropped; then rounds until
--seconds have passed, each round one block per side in a rotating order. Reported per side: the
median over rounds of the block medians (ms per step); PyTorch's best is per round the fastest
variant's block median, then the median over rounds; the ratio is PyTorch best / ours, with the
quartiles of the per-round ratios. Extra Java workloads (--pair, e.g. StableKD's decomposed stage
beside KD) are alternated in the same JVM and reported against the workload they pair with.

    python3 benchmarks/compare_train_interleaved.py --java-cmd "java ... TrainStepServe" \\
        --torch-cmd "python3 benchmarks/pytorch_train_step.py --serve" --workloads resnet20,resnet8x4 --out DIR
(compare_train_interleaved.sh builds the command lines; use that.)
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


class Server:
    """One warm process speaking the block protocol (see TrainStepServe)."""

    def __init__(self, name, argv, log):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        line = self._line()
        if line != "ready":
            raise SystemExit("compare_train_interleaved: %s did not start (said %r); see %s" % (name, line, log.name))

    def _line(self):
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("compare_train_interleaved: %s exited (code %s); its stderr is in the run's log"
                             % (self.name, self.proc.poll()))
        return line.strip()

    def block(self, key, n):
        """Runs n steps of key; their times in ms."""
        self.proc.stdin.write("%s %d\n" % (key, n))
        self.proc.stdin.flush()
        words = self._line().split()
        if not words or words[0] != key:
            raise SystemExit("compare_train_interleaved: %s answered %r to '%s %d'" % (self.name, " ".join(words), key, n))
        return [float(t) for t in words[1:]]

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        self.proc.wait(timeout=60)


def quartiles(values):
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


def run_workload(args, workload, log, record):
    pairs = [p.split("=", 1)[1] for p in args.pair if p.split("=", 1)[0] == workload]
    java = Server("our TrainStepServe", shlex.split(args.java_cmd) + [args.input, str(args.batch), workload] + pairs, log)
    variants = args.variants.split(",")
    torch_keys = ["%s/%s" % (workload, v) for v in variants]
    torch = Server("pytorch_train_step.py --serve", shlex.split(args.torch_cmd) + [
        "--models", workload, "--inputs", args.input, "--batch", str(args.batch), "--threads", str(args.threads),
        "--variants", args.variants], log)
    sides = [("ours", java, workload)] + [("ours " + p, java, p) for p in pairs] + [("torch " + v, torch, k) for v, k in zip(variants, torch_keys)]
    try:
        print("== %s: warm-up" % workload, file=sys.stderr, flush=True)
        for label, server, key in sides:
            server.block(key, args.warmup)
        per_step = {}
        for label, server, key in sides:
            per_step[label] = statistics.median(server.block(key, 3))
        torch_best = min(v for k, v in per_step.items() if k.startswith("torch "))
        kept = [s for s in sides if not s[0].startswith("torch ") or per_step[s[0]] <= 1.15 * torch_best]
        dropped = [s[0] for s in sides if s not in kept]
        print("== %s: calibration ms/step %s; dropped %s" % (workload, {k: round(v, 1) for k, v in per_step.items()}, dropped or "none"),
              file=sys.stderr, flush=True)
        rounds = []
        end = time.monotonic() + args.seconds
        r = 0
        while time.monotonic() < end or len(rounds) < args.min_rounds:
            order = kept[r % len(kept):] + kept[:r % len(kept)]
            medians = {}
            for label, server, key in order:
                n = max(2, round(args.block * 1e3 / per_step[label]))
                times = server.block(key, n)
                medians[label] = statistics.median(times)
                time.sleep(args.gap)
            rounds.append(medians)
            r += 1
            best = min(v for k, v in medians.items() if k.startswith("torch "))
            print("   round %2d: ours %.1f ms, torch best %.1f ms, ratio %.3f" % (r, medians["ours"], best, best / medians["ours"]),
                  file=sys.stderr, flush=True)
    finally:
        java.close()
        torch.close()
    ours = [m["ours"] for m in rounds]
    best = [min(v for k, v in m.items() if k.startswith("torch ")) for m in rounds]
    winners = [min((v, k) for k, v in m.items() if k.startswith("torch "))[1] for m in rounds]
    ratios = [b / o for b, o in zip(best, ours)]
    result = {
        "workload": workload, "rounds": len(rounds), "blocks": rounds, "dropped": dropped,
        "ours_ms": statistics.median(ours), "torch_best_ms": statistics.median(best),
        "torch_winner": max(set(winners), key=winners.count),
        "ratio": statistics.median(best) / statistics.median(ours),
        "ratio_round_median": statistics.median(ratios), "ratio_round_quartiles": quartiles(ratios),
        "pairs": {},
    }
    for p in pairs:
        mine = [m["ours " + p] for m in rounds]
        pr = [o / x for o, x in zip(ours, mine)]
        result["pairs"][p] = {"ms": statistics.median(mine), "speed_vs_workload": statistics.median(ours) / statistics.median(mine),
                              "round_median": statistics.median(pr), "round_quartiles": quartiles(pr)}
    record.append(result)
    return result


def table(results, batch):
    lines = ["| workload | ours img/s | PyTorch 2.13 best img/s (variant) | ratio | per-round ratio: median (quartiles) | rounds |",
             "|---|---:|---:|---:|---|---:|"]
    for r in results:
        q = r["ratio_round_quartiles"]
        lines.append("| %s | %.1f | %.1f (%s) | %.2f× | %.2f (%.2f–%.2f) | %d |" % (
            r["workload"], batch / r["ours_ms"] * 1e3, batch / r["torch_best_ms"] * 1e3, r["torch_winner"].split(" ", 1)[1],
            r["ratio"], r["ratio_round_median"], q[0], q[1], r["rounds"]))
        for p, v in r["pairs"].items():
            q = v["round_quartiles"]
            lines.append("| %s | %.1f | — | %.2f× %s | %.2f (%.2f–%.2f) | %d |" % (
                p, batch / v["ms"] * 1e3, v["speed_vs_workload"], r["workload"], v["round_median"], q[0], q[1], r["rounds"]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--java-cmd", required=True, help="command line of TrainStepServe, without its arguments")
    ap.add_argument("--torch-cmd", required=True, help="command line of pytorch_train_step.py --serve, without models")
    ap.add_argument("--workloads", required=True, help="comma separated: zoo models or kd:TEACHER:STUDENT")
    ap.add_argument("--pair", action="append", default=[], help="WORKLOAD=EXTRA: an extra Java workload alternated beside WORKLOAD "
                    "(e.g. kd:resnet56:resnet20=stablekd-decomposed:resnet56:resnet20)")
    ap.add_argument("--input", default="3x32x32")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--variants", default="nchw,channels_last,compile_nchw,compile_channels_last")
    ap.add_argument("--seconds", type=float, default=150, help="measured seconds per workload (default 150)")
    ap.add_argument("--min-rounds", type=int, default=8)
    ap.add_argument("--block", type=float, default=1.5, help="seconds per block (default 1.5)")
    ap.add_argument("--gap", type=float, default=0.1, help="seconds of idle after each block (the other side's spinning threads settle)")
    ap.add_argument("--warmup", type=int, default=20, help="warm-up steps per side (torch.compile compiles in them)")
    ap.add_argument("--out", required=True, help="folder for results.json, table.md and the servers' log")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    record = []
    with open(os.path.join(args.out, "servers.log"), "w") as log:
        for w in args.workloads.split(","):
            run_workload(args, w, log, record)
            with open(os.path.join(args.out, "results.json"), "w") as f:
                json.dump(record, f, indent=1)
    text = table(record, args.batch)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()

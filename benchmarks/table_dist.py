"""Median over rounds of each configuration's `stablekd bench` lines (img/s, wait ms, MB/rank/step).

Usage: python3 benchmarks/table_dist.py benchmarks/results/raw/dist-<date>/
"""
import glob, os, re, statistics, sys

out = sys.argv[1]
configs = [("one-rank-2-threads", "1 rank x 2 threads"), ("two-ranks-overlap", "2 ranks x 1 thread, overlapped"),
           ("two-ranks-after", "2 ranks x 1 thread, after backward")]
rows = {}   # mode -> config -> [(img/s, wait ms, MB, median ms)]
for key, _ in configs:
    for f in sorted(glob.glob(os.path.join(out, key + "-*.log"))):
        for line in open(f):
            m = re.match(r"^(train .*?|KD .*?|StableKD \w+ \[.*?\])\s+([\d.]+)\s+([\d.]+)\s+(\d+)(?:\s+([\d.]+)\s+([\d.]+))?\s*$", line)
            if m:
                rows.setdefault(m.group(1), {}).setdefault(key, []).append(
                    (float(m.group(4)), float(m.group(5) or 0), float(m.group(6) or 0), float(m.group(2))))

print("| mode | " + " | ".join(name for _, name in configs) + " | overlapped ÷ 1 rank | after ÷ 1 rank | wait share (overlapped / after) | MB sent per rank per step |")
print("|---|" + "---:|" * (len(configs) + 4))
for mode, by in rows.items():
    med = {k: statistics.median(v[0] for v in by[k]) for k in by}
    cells = [f"{med[k]:.0f} img/s" if k in med else "—" for k, _ in configs]
    one = med.get("one-rank-2-threads", float("nan"))
    ratios = [med.get(k, float("nan")) / one for k in ("two-ranks-overlap", "two-ranks-after")]
    shares = [statistics.median(v[1] / v[3] for v in by[k]) if by.get(k) else float("nan") for k in ("two-ranks-overlap", "two-ranks-after")]
    ov = by.get("two-ranks-overlap") or by.get("two-ranks-after") or []
    mb = ov[0][2] if ov else float("nan")
    print(f"| {mode} | " + " | ".join(cells) + f" | {ratios[0]:.2f}× | {ratios[1]:.2f}× | {100 * shares[0]:.1f} % / {100 * shares[1]:.1f} % | {mb:.2f} |")
print(f"\n(median over {max(len(v) for by in rows.values() for v in by.values())} rounds; raw logs in {out})")

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

print("| mode | " + " | ".join(name for _, name in configs) + " | 2 ranks ÷ 1 rank | wait share (overlapped) | MB sent per rank per step |")
print("|---|" + "---:|" * (len(configs) + 3))
for mode, by in rows.items():
    med = {k: statistics.median(v[0] for v in by[k]) for k in by}
    cells = [f"{med[k]:.0f} img/s" if k in med else "—" for k, _ in configs]
    ratio = med.get("two-ranks-overlap", 0) / med["one-rank-2-threads"] if "one-rank-2-threads" in med else float("nan")
    ov = by.get("two-ranks-overlap", [])
    share = statistics.median(v[1] / v[3] for v in ov) if ov else float("nan")
    mb = ov[0][2] if ov else float("nan")
    print(f"| {mode} | " + " | ".join(cells) + f" | {ratio:.2f}× | {100 * share:.1f} % | {mb:.2f} |")
print(f"\n(median over {max(len(v) for by in rows.values() for v in by.values())} rounds; raw logs in {out})")

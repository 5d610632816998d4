"""Table of one compare_train_step.sh run: python3 benchmarks/table_train_step.py benchmarks/results/raw/train-step-<time>.

Per (model, input): stablekd img/s (median over rounds of JMH's per-round median), PyTorch 2.13
at its best (per round the fastest variant, then the median over rounds; the variant that won
most rounds is named) and the ratio; PyTorch 1.13 NCHW and its ratio when the run has it.
"""
import collections
import csv
import glob
import json
import os
import statistics
import sys


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def main(out):
    ours, anchor, winners, extra = {}, {}, collections.defaultdict(collections.Counter), {}
    rounds = sorted(glob.glob(os.path.join(out, "stablekd-r*.json")))
    for r in range(1, len(rounds) + 1):
        for b in json.load(open(os.path.join(out, f"stablekd-r{r}.json"))):
            p = b["params"]
            ms = b["primaryMetric"]["scorePercentiles"]["50.0"]
            ours.setdefault((p["model"], p["input"]), []).append(int(p["batch"]) / (ms / 1e3))
        best = {}
        anchor_csv = os.path.join(out, f"torch-anchor-r{r}.csv")
        for row in read_csv(anchor_csv) if os.path.exists(anchor_csv) else []:
            key, v = (row["model"], row["input"]), float(row["img_per_s"])
            if key not in best or v > best[key][0]:
                best[key] = (v, row["variant"])
        for key, (v, variant) in best.items():
            anchor.setdefault(key, []).append(v)
            winners[key][variant] += 1
        path = os.path.join(out, f"torch-extra-r{r}.csv")
        if os.path.exists(path):
            for row in read_csv(path):
                extra.setdefault((row["model"], row["input"]), []).append(float(row["img_per_s"]))
    nan = float("nan")
    head = "| model | input | stablekd img/s | PyTorch 2.13 best img/s (variant) | ratio |"
    rule = "|---|---|---:|---:|---:|"
    if extra:
        head += " PyTorch 1.13 NCHW img/s | ratio |"
        rule += "---:|---:|"
    print(f"{len(rounds)} round(s); medians over rounds")
    print()
    print(head)
    print(rule)
    for key in ours:
        o = statistics.median(ours[key])
        if key not in anchor:   # a workload with no anchor (StableKD)
            line = f"| {key[0]} | {key[1]} | {o:.1f} | — | — |" + (" — | — |" if extra else "")
            print(line)
            continue
        a = statistics.median(anchor[key])
        variant = winners[key].most_common(1)[0][0] if winners[key] else "?"
        line = f"| {key[0]} | {key[1]} | {o:.1f} | {a:.1f} ({variant}) | {o / a:.2f}× |"
        if extra:
            e = statistics.median(extra.get(key, [nan]))
            line += f" {e:.1f} | {o / e:.2f}× |"
        print(line)
    host = os.path.join(out, "host.txt")
    if os.path.exists(host):   # HostProbe before each round: the host's state behind the drift
        print()
        for line in open(host):
            print(f"- {line.strip()}")


if __name__ == "__main__":
    main(sys.argv[1])

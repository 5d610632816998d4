#!/usr/bin/env python3
"""Prints JMH JSON results (from run.sh) as a markdown table with GFLOP/s (the `gflop` aux counter)."""
import json
import sys


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def rows(path):
    for r in json.load(open(path)):
        name = r["benchmark"].rsplit(".", 2)
        bench, method = name[-2], name[-1]
        params = dict(r.get("params", {}))
        what = params.pop("layer", None) or params.pop("shape", "")
        backend = params.pop("backend", "")
        batch = params.pop("batch", "")
        gflop = r.get("secondaryMetrics", {}).get("gflop", {})
        score, err = num(gflop.get("score")), num(gflop.get("scoreError"))
        calls = r["primaryMetric"]["score"]
        yield bench, method, what, backend, batch, calls, score, err


def main(paths):
    print("| benchmark | pass | shape / layer | backend | batch | calls/s | GFLOP/s | ± (99.9 %) |")
    print("|---|---|---|---|---|---:|---:|---:|")
    for path in paths:
        for bench, method, what, backend, batch, calls, score, err in rows(path):
            err_s = "" if err != err else f"{err:.1f}"
            print(f"| {bench} | {method} | {what} | {backend} | {batch} | {calls:.1f} | {score:.1f} | {err_s} |")


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env bash
# Inference latency, stablekd's Predictor (JMH PredictorBench) beside the anchors on the same
# weights: ONNX Runtime (what a JVM service would embed) and PyTorch 2.13 (eager, TorchScript),
# both from benchmarks/pytorch_infer.py; for each thread count in THREADS, back to back, in ROUNDS
# alternating rounds (ours, then the anchors; eager and TorchScript in the first round only); then
# a table of the medians over the rounds of each p50/p99 and of the per-round ratio to ONNX Runtime.
# Rounds because this host's speed drifts by up to 1.5x within minutes (2026-12-06): a ratio from
# one round can be either engine's luck.
#
#   benchmarks/compare_infer.sh                                   # resnet8x4 mobile_half resnet20, batch 1, 1 and 2 threads, 3 rounds
#   MODELS=resnet8x4 BATCH=8 THREADS=1 ROUNDS=1 benchmarks/compare_infer.sh
#
# Raw output, committed as the evidence behind results/cpu.md: benchmarks/results/raw/infer-<time>/
# (machine.txt, the JMH JSON and the anchors' CSV per thread count and round, table.md). The weights
# (benchmarks/results/infer-weights/, seeded, rewritten each run) stay out of git.
# Needs Java 25 (scripts/java25.sh), Maven, python3 with torch 2.13, onnxruntime and onnx (one line
# to install: python3 -m pip install torch==2.13.0+cpu onnxruntime onnx). Time it on an otherwise
# idle machine: every engine uses the same number of threads.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"
# shellcheck source=common.sh
source "$here/common.sh"

models=${MODELS:-resnet8x4,mobile_half,resnet20}
input=${INPUT:-3x32x32}
batch=${BATCH:-1}
thread_counts=${THREADS:-1,2}
# 16 s of warm-up: a per-call method reaches C2 after 5–8 thousand calls (resnet8x4 at 1.4 ms: ~10 s),
# and each compilation takes a vCPU from the pool for a while (bursts of 2–6 ms calls on 2 threads);
# measured from the 6-second warm-up of before, they were the 2-thread p99 (2026-12-06)
jmh_opts=${JMH_OPTS:-"-wi 8 -w 2s -i 5 -r 2s -f 1"}
anchor=${ANCHOR_PYTHON:-python3}
iters=${ITERS:-3000}
rounds=${ROUNDS:-3}

if ! "$anchor" -c 'import torch, onnxruntime, onnx' 2>/dev/null; then
  echo "compare_infer.sh: $anchor lacks torch, onnxruntime or onnx; install the anchors with: python3 -m pip install torch==2.13.0+cpu onnxruntime onnx" >&2
  exit 1
fi

build_all

out=$(new_raw_dir infer)
weights="$here/results/infer-weights"
machine_header "$out" "MODELS=$models INPUT=$input BATCH=$batch THREADS=$thread_counts ROUNDS=$rounds JMH_OPTS=\"$jmh_opts\" ITERS=$iters benchmarks/compare_infer.sh" \
  "anchors: $("$anchor" -c 'import torch, onnxruntime; print("torch", torch.__version__, "/ onnxruntime", onnxruntime.__version__)')"
"$anchor" "$here/pytorch_infer.py" --models "$models" --input "$input" --write-weights "$weights"
for r in $(seq 1 "$rounds"); do
  engines=onnxruntime
  [ "$r" = 1 ] && engines=eager,torchscript,onnxruntime
  for t in ${thread_counts//,/ }; do
    echo "== round $r of $rounds: stablekd (JMH PredictorBench, $t threads)" >&2
    # shellcheck disable=SC2086
    "$JAVA" $STABLEKD_JVM_FLAGS -jar "$here/target/benchmarks.jar" PredictorBench $jmh_opts \
        -jvmArgsAppend "-XX:+UseSerialGC -Xmn32m -Xss4m -Dstablekd.threads=$t" \
        -p model="$models" -p input="$input" -p batch="$batch" -p weightsDir="$weights" -rf json -rff "$out/stablekd-t$t-r$r.json" >&2
    echo "== round $r of $rounds: anchors ($anchor, $t threads: $engines; $iters timed calls each)" >&2
    "$anchor" "$here/pytorch_infer.py" --models "$models" --input "$input" --batch "$batch" --threads "$t" \
        --iters "$iters" --weights-dir "$weights" --engines "$engines" | tee "$out/anchors-t$t-r$r.csv" >&2
  done
done
machine_footer "$out"
strip_jmh_raw "$out"/stablekd-t*-r*.json
python3 - "$out" <<'PY' | tee "$out/table.md"
import csv, glob, json, os, re, statistics, sys
out = sys.argv[1]
ours, anchors = {}, {}   # (threads, model) -> list over rounds of (p50, p99); anchors keyed by engine too
for path in sorted(glob.glob(os.path.join(out, "stablekd-t*-r*.json"))):
    t, r = re.search(r"-t(\d+)-r(\d+)\.json$", path).groups()
    for b in json.load(open(path)):
        p = b["primaryMetric"]["scorePercentiles"]
        ours.setdefault((int(t), b["params"]["model"]), {})[int(r)] = (p["50.0"], p["99.0"])
    with open(os.path.join(out, f"anchors-t{t}-r{r}.csv")) as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            anchors.setdefault((int(t), row["model"], row["engine"]), {})[int(r)] = (float(row["p50_ms"]), float(row["p99_ms"]))
nan = float("nan")
def med(rounds, i):
    return statistics.median(v[i] for v in rounds.values()) if rounds else nan
print("Medians over the rounds; the ratio is the median of the per-round ratios (its range in brackets).")
print()
print("| threads | model | rounds | stablekd p50 / p99 ms | ONNX Runtime p50 / p99 ms | ours ÷ ORT (p50) | our p99 ÷ p50 | TorchScript 2.13 p50 / p99 ms | eager 2.13 p50 / p99 ms |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
for (t, m), o in sorted(ours.items()):
    ort = anchors.get((t, m, "onnxruntime"), {})
    ts, eg = anchors.get((t, m, "torchscript"), {}), anchors.get((t, m, "eager"), {})
    ratios = sorted(o[r][0] / ort[r][0] for r in o if r in ort)
    rr = f"{statistics.median(ratios):.2f}× [{ratios[0]:.2f}–{ratios[-1]:.2f}]" if ratios else "n/a"
    tails = statistics.median(v[1] / v[0] for v in o.values())
    print(f"| {t} | {m} | {len(o)} | {med(o, 0):.3f} / {med(o, 1):.3f} | {med(ort, 0):.3f} / {med(ort, 1):.3f} | {rr} | {tails:.2f} | "
          f"{med(ts, 0):.3f} / {med(ts, 1):.3f} | {med(eg, 0):.3f} / {med(eg, 1):.3f} |")
PY
echo "raw output: ${out#"$root/"}" >&2

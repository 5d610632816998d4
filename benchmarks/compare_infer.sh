#!/usr/bin/env bash
# Inference latency, stablekd's Predictor (JMH PredictorBench) beside the anchors on the same
# weights: ONNX Runtime (what a JVM service would embed) and PyTorch 2.13 (eager, TorchScript),
# both from benchmarks/pytorch_infer.py; for each thread count in THREADS, back to back; then a
# table of p50/p99 and the ratios.
#
#   benchmarks/compare_infer.sh                                   # resnet8x4 mobile_half resnet20, batch 1, 1 and 2 threads
#   MODELS=resnet8x4 BATCH=8 THREADS=1 benchmarks/compare_infer.sh
#
# Raw output, committed as the evidence behind results/cpu.md: benchmarks/results/raw/infer-<time>/
# (machine.txt, the JMH JSON and the anchors' CSV per thread count, table.md). The weights
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

if ! "$anchor" -c 'import torch, onnxruntime, onnx' 2>/dev/null; then
  echo "compare_infer.sh: $anchor lacks torch, onnxruntime or onnx; install the anchors with: python3 -m pip install torch==2.13.0+cpu onnxruntime onnx" >&2
  exit 1
fi

echo "== building the engine (mvn -DskipTests install) and the benchmarks" >&2
(cd "$root" && mvn -q -DskipTests install)
(cd "$here" && mvn -q package)

stamp=$(date -u +%Y%m%d-%H%M%S)
out="$here/results/raw/infer-$stamp"
weights="$here/results/infer-weights"
mkdir -p "$out"
machine_header "$out" "MODELS=$models INPUT=$input BATCH=$batch THREADS=$thread_counts JMH_OPTS=\"$jmh_opts\" ITERS=$iters benchmarks/compare_infer.sh" \
  "anchors: $("$anchor" -c 'import torch, onnxruntime; print("torch", torch.__version__, "/ onnxruntime", onnxruntime.__version__)')"
"$anchor" "$here/pytorch_infer.py" --models "$models" --input "$input" --write-weights "$weights"
for t in ${thread_counts//,/ }; do
  echo "== stablekd (JMH PredictorBench, $t threads)" >&2
  # shellcheck disable=SC2086
  "$JAVA" $STABLEKD_JVM_FLAGS -jar "$here/target/benchmarks.jar" PredictorBench $jmh_opts \
      -jvmArgsAppend "-XX:+UseParallelGC -Xss4m -Dstablekd.threads=$t" \
      -p model="$models" -p input="$input" -p batch="$batch" -p weightsDir="$weights" -rf json -rff "$out/stablekd-t$t.json" >&2
  echo "== anchors ($anchor, $t threads: eager, TorchScript, ONNX Runtime; $iters timed calls each)" >&2
  "$anchor" "$here/pytorch_infer.py" --models "$models" --input "$input" --batch "$batch" --threads "$t" \
      --iters "$iters" --weights-dir "$weights" | tee "$out/anchors-t$t.csv" >&2
done
machine_footer "$out"
strip_jmh_raw "$out"/stablekd-t*.json
python3 - "$out" <<'PY' | tee "$out/table.md"
import csv, glob, json, os, re, sys
out = sys.argv[1]
print("| threads | model | stablekd p50 / p99 ms | ONNX Runtime p50 / p99 ms | TorchScript 2.13 p50 / p99 ms | eager 2.13 p50 / p99 ms | ours ÷ ORT (p50) | our p99 ÷ p50 |")
print("|---:|---|---:|---:|---:|---:|---:|---:|")
for path in sorted(glob.glob(os.path.join(out, "stablekd-t*.json"))):
    t = re.search(r"-t(\d+)\.json$", path).group(1)
    anchors = {}
    with open(os.path.join(out, f"anchors-t{t}.csv")) as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            anchors[(row["model"], row["engine"])] = (float(row["p50_ms"]), float(row["p99_ms"]))
    nan = (float("nan"),) * 2
    for b in json.load(open(path)):
        m, p = b["params"]["model"], b["primaryMetric"]["scorePercentiles"]
        o50, o99 = p["50.0"], p["99.0"]
        ort, ts, eg = (anchors.get((m, e), nan) for e in ("onnxruntime", "torchscript", "eager"))
        print(f"| {t} | {m} | {o50:.3f} / {o99:.3f} | {ort[0]:.3f} / {ort[1]:.3f} | {ts[0]:.3f} / {ts[1]:.3f} | "
              f"{eg[0]:.3f} / {eg[1]:.3f} | {o50 / ort[0]:.2f}× | {o99 / o50:.2f} |")
PY
echo "raw output: ${out#"$root/"}" >&2

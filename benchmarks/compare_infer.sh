#!/usr/bin/env bash
# Inference latency, stablekd's Predictor (JMH PredictorBench) beside PyTorch (benchmarks/pytorch_infer.py,
# Debian's 1.13: eager and TorchScript), on the same weights (one safetensors file per model, written
# by the PyTorch script), back to back, then a table of p50/p99 and the ratios.
#
#   benchmarks/compare_infer.sh                                   # resnet8x4 mobile_half resnet20, batch 1
#   MODELS=resnet8x4 BATCH=8 THREADS=1 benchmarks/compare_infer.sh
#
# Output: benchmarks/results/infer-<time>.{json,csv,md} (ignored by git; results/cpu.md is the
# curated record). Needs Java 25 (scripts/java25.sh), Maven, /usr/bin/python3 with torch.
# Time it on an otherwise idle machine: both engines use THREADS threads.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"

models=${MODELS:-resnet8x4,mobile_half,resnet20}
input=${INPUT:-3x32x32}
batch=${BATCH:-1}
threads=${THREADS:-2}
jmh_opts=${JMH_OPTS:-"-wi 3 -w 2s -i 5 -r 2s -f 1"}
python=${PYTORCH_PYTHON:-/usr/bin/python3}

echo "== building the engine (mvn -DskipTests install) and the benchmarks" >&2
(cd "$root" && mvn -q -DskipTests install)
(cd "$here" && mvn -q package)

stamp=$(date +%Y%m%d-%H%M%S)
out="$here/results/infer-$stamp"
weights="$here/results/infer-weights"
mkdir -p "$here/results"
echo "machine: $(nproc) cpus, $(lscpu | sed -n 's/^Model name: *//p' | head -1); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out.log" >&2
"$python" "$here/pytorch_infer.py" --models "$models" --input "$input" --write-weights "$weights"
echo "== stablekd (JMH PredictorBench, $threads threads)" >&2
# shellcheck disable=SC2086
"$JAVA" $STABLEKD_JVM_FLAGS -jar "$here/target/benchmarks.jar" PredictorBench $jmh_opts \
    -jvmArgsAppend "-XX:+UseParallelGC -Xss4m -Dstablekd.threads=$threads" \
    -p model="$models" -p input="$input" -p batch="$batch" -p weightsDir="$weights" -rf json -rff "$out.json" >&2
echo "== PyTorch ($python, $threads threads)" >&2
"$python" "$here/pytorch_infer.py" --models "$models" --input "$input" --batch "$batch" --threads "$threads" \
    --weights-dir "$weights" | tee "$out.csv" >&2
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out.log" >&2
python3 - "$out" <<'PY' | tee "$out.md"
import csv, json, sys
out = sys.argv[1]
ours = {b["params"]["model"]: b["primaryMetric"]["scorePercentiles"] for b in json.load(open(out + ".json"))}
torch = {}
with open(out + ".csv") as f:
    for row in csv.DictReader(line for line in f if not line.startswith("#")):
        torch[(row["model"], row["engine"])] = (float(row["p50_ms"]), float(row["p99_ms"]))
print("| model | stablekd p50 / p99 ms | PyTorch eager p50 / p99 ms | TorchScript p50 / p99 ms | ours / best PyTorch (p50) |")
print("|---|---:|---:|---:|---:|")
for m, p in ours.items():
    o50, o99 = p["50.0"], p["99.0"]
    e = torch.get((m, "eager"), (float("nan"),) * 2)
    t = torch.get((m, "torchscript"), (float("nan"),) * 2)
    best = min(e[0], t[0])
    print(f"| {m} | {o50:.3f} / {o99:.3f} | {e[0]:.3f} / {e[1]:.3f} | {t[0]:.3f} / {t[1]:.3f} | {o50 / best:.2f}× |")
PY

#!/usr/bin/env bash
# One training step (forward + cross-entropy + backward + SGD momentum 0.9 wd 5e-4, batch 64),
# stablekd (JMH TrainStepBench) beside PyTorch (benchmarks/pytorch_train_step.py, Debian's 1.13),
# run back to back, then a table of images/s and the ratio.
#
#   benchmarks/compare_train_step.sh                       # resnet20 resnet8 wrn_16_2 resnet56 × 1x32x32 3x32x32
#   MODELS=resnet20 INPUTS=1x32x32 ROUNDS=3 benchmarks/compare_train_step.sh
#   JMH_OPTS="-wi 3 -w 3s -i 5 -r 3s -f 1" THREADS=2 benchmarks/compare_train_step.sh
#
# ROUNDS > 1 alternates the two engines ROUNDS times (the machines here are shared and their
# speed drifts); each cell is then the median over rounds of the per-round medians. Output:
# benchmarks/results/train-step-<time>.{json,csv,md} (ignored by git; results/cpu.md is the
# curated record). Needs Java 25 (scripts/java25.sh), Maven, /usr/bin/python3 with torch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"

models=${MODELS:-resnet20,resnet8,wrn_16_2,resnet56}
inputs=${INPUTS:-1x32x32,3x32x32}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
batch=${BATCH:-64}
jmh_opts=${JMH_OPTS:-"-wi 3 -w 3s -i 5 -r 3s -f 1"}
python=${PYTORCH_PYTHON:-/usr/bin/python3}

echo "== building the engine (mvn -DskipTests install) and the benchmarks" >&2
(cd "$root" && mvn -q -DskipTests install)
(cd "$here" && mvn -q package)

stamp=$(date +%Y%m%d-%H%M%S)
out="$here/results/train-step-$stamp"
mkdir -p "$here/results"
echo "machine: $(nproc) cpus, $(lscpu | sed -n 's/^Model name: *//p' | head -1); load before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out.log" >&2
for r in $(seq "$rounds"); do
  echo "== round $r/$rounds: stablekd (JMH TrainStepBench, $threads threads)" >&2
  # shellcheck disable=SC2086
  "$JAVA" $STABLEKD_JVM_FLAGS -jar "$here/target/benchmarks.jar" TrainStepBench $jmh_opts \
      -jvmArgsAppend "-XX:+UseParallelGC -Xss4m -Dstablekd.threads=$threads" \
      -p model="$models" -p input="$inputs" -p batch="$batch" -rf json -rff "$out-r$r.json" >&2
  echo "== round $r/$rounds: PyTorch ($python, $threads threads)" >&2
  "$python" "$here/pytorch_train_step.py" --models "$models" --inputs "$inputs" --batch "$batch" \
      --threads "$threads" | tee "$out-r$r.csv" >&2
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out.log" >&2
python3 - "$out" "$rounds" <<'EOF' | tee "$out.md"
import csv, json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ours, torch = {}, {}
for r in range(1, rounds + 1):
    for b in json.load(open(f"{out}-r{r}.json")):
        p = b["params"]
        ms = b["primaryMetric"]["scorePercentiles"]["50.0"]
        ours.setdefault((p["model"], p["input"]), []).append(int(p["batch"]) / (ms / 1e3))
    with open(f"{out}-r{r}.csv") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            torch.setdefault((row["model"], row["input"]), []).append(float(row["img_per_s"]))
print("| model | input | stablekd img/s | PyTorch img/s | ratio |")
print("|---|---|---:|---:|---:|")
for key in ours:
    o = statistics.median(ours[key]); t = statistics.median(torch.get(key, [float("nan")]))
    print(f"| {key[0]} | {key[1]} | {o:.1f} | {t:.1f} | {o / t:.2f}× |")
EOF

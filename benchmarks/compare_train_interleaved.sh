#!/usr/bin/env bash
# Training step, ours against PyTorch 2.13 at its best, alternated block by block in two warm
# processes (compare_train_interleaved.py says why: on a shared host a minute's speed moves by a
# third, so both sides must sample the same minutes). Raw output in results/raw/train-interleaved-<time>/.
#
#   benchmarks/compare_train_interleaved.sh
#   WORKLOADS=resnet8x4,resnet20 SECONDS_PER=150 THREADS=2 benchmarks/compare_train_interleaved.sh
#
# Defaults: the four workloads of issue 12 (resnet20, resnet8x4, wrn_16_2, KD resnet56→resnet20,
# with StableKD's decomposed stage alternated beside KD in the same JVM), 3×32×32, batch 64,
# 2 threads, 150 measured seconds per workload (about 4 minutes each with the warm-up).
# Needs Java 25 (scripts/java25.sh), Maven; python3 with torch 2.13 (one line to install:
# python3 -m pip install torch==2.13.0+cpu).
# PyTorch runs with common.sh's anchor_env (glibc malloc keeps its memory; ANCHOR_MALLOC=default: untuned).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"
# shellcheck source=common.sh
source "$here/common.sh"

workloads=${WORKLOADS:-resnet20,resnet8x4,wrn_16_2,kd:resnet56:resnet20}
pairs=${PAIRS:-kd:resnet56:resnet20=stablekd-decomposed:resnet56:resnet20}
input=${INPUT:-3x32x32}
threads=${THREADS:-2}
batch=${BATCH:-64}
seconds=${SECONDS_PER:-150}
anchor=${ANCHOR_PYTHON:-python3}

require_torch2 compare_train_interleaved.sh

build_all

out=$(new_raw_dir train-interleaved)
machine_header "$out" "WORKLOADS=$workloads PAIRS=$pairs INPUT=$input THREADS=$threads BATCH=$batch SECONDS_PER=$seconds benchmarks/compare_train_interleaved.sh" \
  "anchor: $("$anchor" -c 'import torch; print("torch", torch.__version__)') ${anchor_env[*]:-(default malloc)}"
echo "host probe before: $("$JAVA" $STABLEKD_JVM_FLAGS -cp "$here/target/benchmarks.jar" org.stablekd.bench.HostProbe 2>/dev/null)" | tee "$out/host.txt" >&2
pair_args=()
IFS=',' read -r -a pair_list <<< "$pairs"
for p in "${pair_list[@]}"; do [ -z "$p" ] || pair_args+=(--pair "$p"); done
java_cmd="$JAVA $STABLEKD_JVM_FLAGS $(train_jvm_flags "$threads") -cp $here/target/benchmarks.jar org.stablekd.bench.TrainStepServe"
python3 "$here/compare_train_interleaved.py" --java-cmd "$java_cmd" --torch-cmd "env ${anchor_env[*]} $anchor $here/pytorch_train_step.py --serve" \
  --workloads "$workloads" "${pair_args[@]}" --input "$input" --batch "$batch" --threads "$threads" --seconds "$seconds" --out "$out" \
  | tee "$out/table.stdout" >&2
echo "host probe after: $("$JAVA" $STABLEKD_JVM_FLAGS -cp "$here/target/benchmarks.jar" org.stablekd.bench.HostProbe 2>/dev/null)" | tee -a "$out/host.txt" >&2
machine_footer "$out"
rm -f "$out/table.stdout"
cat "$out/table.md"

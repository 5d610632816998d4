#!/usr/bin/env bash
# One training step (forward + cross-entropy + backward + SGD momentum 0.9 wd 5e-4, batch 64),
# stablekd (JMH TrainStepBench) beside the anchor, PyTorch 2.13 at its best (NCHW or
# channels_last, eager or torch.compile: benchmarks/pytorch_train_step.py), and Debian's PyTorch
# 1.13 as an extra column; run back to back, then a table of images/s and the ratios.
#
#   benchmarks/compare_train_step.sh                       # resnet20 resnet8 wrn_16_2 resnet56 × 1x32x32 3x32x32
#   MODELS=resnet20 INPUTS=3x32x32 ROUNDS=3 benchmarks/compare_train_step.sh
#   JMH_OPTS="-wi 5 -w 3s -i 5 -r 3s -f 1" THREADS=2 benchmarks/compare_train_step.sh
#   EXTRA_PYTHON= benchmarks/compare_train_step.sh         # without the PyTorch 1.13 column
#   MODELS=kd:resnet56:resnet20,stablekd-decomposed:resnet56:resnet20 INPUTS=3x32x32 benchmarks/compare_train_step.sh
#                    # distillation steps (see TrainStepBench); StableKD has no PyTorch anchor (its row compares with KD's)
#
# ROUNDS > 1 alternates the engines ROUNDS times (the machines here are shared and their speed
# drifts); each cell is then the median over rounds of the per-round medians (PyTorch 2.13's cell:
# per round the best variant, then the median over rounds). Raw output, committed as the evidence
# behind results/cpu.md: benchmarks/results/raw/train-step-<time>/ (machine.txt, the JMH JSON and
# the PyTorch CSVs of each round, host.txt with HostProbe's line before each round, table.md).
# Needs Java 25 (scripts/java25.sh), Maven; python3 with torch 2.13 (one line to install:
# python3 -m pip install torch==2.13.0+cpu); /usr/bin/python3 with Debian's torch for the extra column.
# Both PyTorch runs get common.sh's anchor_env (glibc malloc keeps its memory; ANCHOR_MALLOC=default: untuned).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"
# shellcheck source=common.sh
source "$here/common.sh"

models=${MODELS:-resnet20,resnet8,wrn_16_2,resnet56}
inputs=${INPUTS:-1x32x32,3x32x32}
rounds=${ROUNDS:-1}
threads=${THREADS:-2}
batch=${BATCH:-64}
jmh_opts=${JMH_OPTS:-"-wi 5 -w 3s -i 5 -r 3s -f 1"}
anchor=${ANCHOR_PYTHON:-python3}
variants=${VARIANTS:-all}
# StableKD exists only here: its workloads get no anchor row
anchor_models=$(echo "$models" | tr ',' '\n' | grep -v '^stablekd-' | paste -sd, || true)
extra=${EXTRA_PYTHON-/usr/bin/python3}

require_torch2 compare_train_step.sh
if [ -n "$extra" ] && ! "$extra" -c 'import torch' 2>/dev/null; then
  echo "compare_train_step.sh: $extra has no torch; skipping the PyTorch 1.13 column (apt-get install python3-torch adds it)" >&2
  extra=""
fi

build_all

out=$(new_raw_dir train-step)
machine_header "$out" "MODELS=$models INPUTS=$inputs ROUNDS=$rounds THREADS=$threads BATCH=$batch JMH_OPTS=\"$jmh_opts\" VARIANTS=$variants benchmarks/compare_train_step.sh" \
  "anchor: $("$anchor" -c 'import torch; print("torch", torch.__version__)') ${anchor_env[*]:-(default malloc)}; extra: ${extra:+$("$extra" -c 'import torch; print("torch", torch.__version__)')}"
for r in $(seq "$rounds"); do
  # what the host gives right now (effective last-level cache, bandwidth, core sharing): see HostProbe
  # shellcheck disable=SC2086
  echo "round $r: $("$JAVA" $STABLEKD_JVM_FLAGS -cp "$here/target/benchmarks.jar" org.stablekd.bench.HostProbe 2>/dev/null)" | tee -a "$out/host.txt" >&2
  echo "== round $r/$rounds: stablekd (JMH TrainStepBench, $threads threads)" >&2
  # shellcheck disable=SC2086
  "$JAVA" $STABLEKD_JVM_FLAGS -jar "$here/target/benchmarks.jar" TrainStepBench $jmh_opts \
      -jvmArgsAppend "$(train_jvm_flags "$threads")" \
      -p model="$models" -p input="$inputs" -p batch="$batch" -rf json -rff "$out/stablekd-r$r.json" >&2
  [ -n "$anchor_models" ] || continue
  echo "== round $r/$rounds: PyTorch anchor ($anchor, $threads threads, variants $variants)" >&2
  env "${anchor_env[@]}" "$anchor" "$here/pytorch_train_step.py" --models "$anchor_models" --inputs "$inputs" --batch "$batch" \
      --threads "$threads" --variants "$variants" | tee "$out/torch-anchor-r$r.csv" >&2
  if [ -n "$extra" ]; then
    echo "== round $r/$rounds: PyTorch extra ($extra, $threads threads, NCHW)" >&2
    env "${anchor_env[@]}" "$extra" "$here/pytorch_train_step.py" --models "$anchor_models" --inputs "$inputs" --batch "$batch" \
        --threads "$threads" --variants nchw | tee "$out/torch-extra-r$r.csv" >&2
  fi
done
machine_footer "$out"
strip_jmh_raw "$out"/stablekd-r*.json
python3 "$here/table_train_step.py" "$out" | tee "$out/table.md"
echo "raw output: ${out#"$root/"}" >&2

#!/usr/bin/env bash
# Issue 15's GPU verification in ONE device call (< 8 minutes): loads the bundle, runs every GPU
# test suite (fatbin and NVRTC kernels), then measures the fused KD loss against a device copy and
# the training steps of resnet20 / resnet56 -> resnet20 at batch 256 and 64, beside PyTorch on the
# same GPU (fp32 eager, AMP bf16 + channels_last). Everything goes to ONE file, $OUT/verify.txt,
# with a summary table at its end (also printed, so the device tool's output tail shows it).
#
# Fail-soft: each part runs under its own timeout; a part that fails or times out is recorded and
# the next one runs. A global deadline (VERIFY_BUDGET_S, default 450 s) caps every part's limit at
# what is left, and parts that would start with under 10 s left are recorded as skipped, so the
# call ends inside the device tool's 600 s even if every part hangs.
#
# Before the device call, on the development machine (repo root):
#   mvn -q -DskipTests package && native/gpu-bundle.sh --tests
# Device call (benchmarks/results/gpu.md has it verbatim): run with carry [".gpu"], timeout_s 540,
#   command: bash benchmarks/gpu/verify.sh
# Here, without a GPU:
#   bash benchmarks/gpu/verify.sh --dry-run   # prints every part, its limit and command; runs nothing
#   bash benchmarks/gpu/verify.sh             # runs for real: each GPU part fails or skips, recorded
set -uo pipefail   # not -e: a failing part must not end the run

dry=false
[ "${1:-}" = "--dry-run" ] && dry=true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root" || exit 2
out=${OUT:-$root/target/verify-out}
mkdir -p "$out"
R=$out/verify.txt
budget=${VERIFY_BUDGET_S:-450}
steps=${VERIFY_STEPS:-30}
t_start=$(date +%s)
summary=()

if ! $dry; then
  : > "$R"
  if [ -f .gpu/env.sh ]; then
    # shellcheck disable=SC1091
    source .gpu/env.sh
  else
    echo "verify: no .gpu/env.sh: build it first (mvn -q -DskipTests package && native/gpu-bundle.sh --tests)" | tee -a "$R"
    JAVA=false TESTCP=''
  fi
fi
# shellcheck disable=SC2016  # literally $JAVA and $TESTCP: the dry run prints what the device expands
if $dry; then JAVA='$JAVA' TESTCP='$TESTCP'; fi
junit="org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors --details=tree"

# part NAME LIMIT_S COMMAND: runs COMMAND (a bash string) under min(LIMIT_S, time left), output to $R
part() {
  local name=$1 limit=$2 cmd=$3
  local now left rc t0 status
  now=$(date +%s); left=$((budget - (now - t_start)))
  if $dry; then
    printf '[%s] limit %ss\n    %s\n' "$name" "$limit" "$cmd"
    return
  fi
  if [ "$left" -lt 10 ]; then
    summary+=("$(printf '%-34s %-22s %5s' "$name" "SKIPPED (deadline)" 0)")
    printf '\n=== %s: skipped, %ss of the %ss budget left\n' "$name" "$left" "$budget" >> "$R"
    return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  printf '\n=== %s (limit %ss, at +%ss) ===\n$ %s\n' "$name" "$limit" "$((now - t_start))" "$cmd" >> "$R"
  t0=$(date +%s)
  timeout -k 5 "$limit" bash -c "$cmd" >> "$R" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status="TIMED OUT (${limit}s)" ;;
    *) status="FAILED (rc $rc)" ;;
  esac
  summary+=("$(printf '%-34s %-22s %5s' "$name" "$status" "$(($(date +%s) - t0))")")
  printf '=== %s: %s\n' "$name" "$status" >> "$R"
}

# gpu_run CMD...: CMD, but a run that verified or measured nothing because the CUDA backend did
# not load (JUnit: tests aborted; a benchmark: "no GPU (reason)") returns 3, not 0.
# shellcheck disable=SC2317  # invoked through the exported function in each part's bash -c
gpu_run() {
  local log rc
  log=$(mktemp)
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ] && grep -qE '\[ *[1-9][0-9]* tests aborted|: no GPU \(' "$log"; then
    echo "verify: nothing ran on a GPU here: the CUDA backend did not load (the reason is above)"
    rc=3
  fi
  rm -f "$log"
  return "$rc"
}
export -f gpu_run

torch_ok="python3 -c 'import torch, sys; print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available()); sys.exit(0 if torch.cuda.is_available() else 3)'"

# 0. the machine and the bundle
part "environment" 20 "date -u; nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; \
  echo \"LD_LIBRARY_PATH=\$LD_LIBRARY_PATH\"; find \"\$(python3 -c 'import nvidia;print(list(nvidia.__path__)[0])' 2>/dev/null || echo /nonexistent)\" -name 'lib*.so*' 2>/dev/null | grep -E 'cudart|cublas|cudnn|nvrtc|nccl' | head -20; \
  $JAVA -version 2>&1 | head -1; $torch_ok || echo 'torch missing or without CUDA: the PyTorch parts will fail and are recorded as such'"

# 1. every gpu-tagged suite (CudaVsCpuGpuTest, CudaOpsGpuTest, FusedOpsGpuTest, TrainingStepDeterminismGpuTest, DevicePlacementGpuTest),
#    kernels from the fatbin, allocations poison-filled (the untagged CUDA tests ran on the development machine)
part "gpu tests (fatbin)" 150 "gpu_run $JAVA -ea -Dstablekd.poison=true -cp \"$TESTCP\" $junit --select-package org.stablekd.backend.cuda --include-tag gpu"
# 1b. NCCL through dist.Nccl, one rank (issue 14): unique id, ncclCommInitRank, allreduce and broadcast on the stream
part "nccl 1 rank" 30 "gpu_run $JAVA -ea -Dstablekd.poison=true -cp \"$TESTCP\" $junit --select-class org.stablekd.dist.NcclGpuTest --include-tag gpu"
# 2. the registry and fused suites with the kernels compiled by NVRTC for this GPU
part "gpu tests (NVRTC)" 80 "gpu_run $JAVA -ea -Dstablekd.poison=true -Dstablekd.cuda.nvrtc=true -cp \"$TESTCP\" $junit \
  --select-class org.stablekd.backend.cuda.CudaVsCpuGpuTest --select-class org.stablekd.backend.cuda.FusedOpsGpuTest"

# 3. fused KD loss GB/s against a device-to-device copy, 8192 x 1000, then PyTorch's loss on the same logits
part "KD loss GB/s (stablekd)" 40 "gpu_run $JAVA -cp \"$TESTCP\" org.stablekd.backend.cuda.GpuKdLossBenchmark 8192 1000"
part "KD loss GB/s (PyTorch)" 40 "python3 benchmarks/gpu/torch_kd_loss.py --rows 8192 --classes 1000"

# 4. training steps: stablekd (teacher, student, KD, StableKD stages), then PyTorch fp32 eager and AMP bf16 + channels_last
for batch in 256 64; do
  part "train b$batch (stablekd)" 75 "gpu_run $JAVA -cp \"$TESTCP\" org.stablekd.backend.cuda.GpuMethodBenchmark resnet56 resnet20 $batch $steps all"
  for mode in "" "--amp --channels-last"; do
    label=$([ -z "$mode" ] && echo "fp32" || echo "amp-bf16-cl")
    part "train b$batch (PyTorch $label)" 60 "rc=0; for m in 'resnet56' 'resnet20' 'resnet20 --teacher resnet56'; do \
      set -- \$m; python3 benchmarks/gpu/torch_train_step.py --model \$1 \${2:+\$2 \$3} --batch $batch --steps $steps $mode || rc=\$?; done; exit \$rc"
  done
done

# 5. our other kernels' bandwidth, if time is left
part "kernel GB/s (stablekd)" 30 "gpu_run $JAVA -cp \"$TESTCP\" org.stablekd.backend.cuda.GpuBandwidthBenchmark"

$dry && exit 0
{
  printf '\n=== summary (%s, %ss of %ss) ===\n' "$(date -u +%FT%TZ)" "$(($(date +%s) - t_start))" "$budget"
  printf '%-34s %-22s %5s\n' part status secs
  printf '%s\n' "${summary[@]}"
  echo "key lines:"
  grep -E '^(device:|Tests? |\[ *[0-9]+ tests (successful|failed|aborted)|step: |step ms|train |KD |StableKD |fused KD|torch |FAILED )' "$R" | cut -c1-200
} > "$out/summary.tmp"
cat "$out/summary.tmp" >> "$R"
cat "$out/summary.tmp"
rm -f "$out/summary.tmp"
exit 0

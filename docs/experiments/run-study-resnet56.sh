#!/usr/bin/env bash
# Issue 13's study on one 2-core machine: the resnet56 teacher, then each cell, two runs side by
# side with one compute thread each (a resnet8 step at batch 64 gains little from a second
# thread; two runs at once nearly double the throughput). Every run is resumable and finished
# runs are skipped, so the script can be stopped and started again.
#   docs/experiments/run-study-resnet56.sh                 # every cell, in the order below
#   docs/experiments/run-study-resnet56.sh 40pct 20ep      # some cells (a name's suffix)
# STABLEKD=path/to/stablekd picks another build; logs go to runs/logs/.
set -euo pipefail
cd "$(dirname "$0")/../.."
sk=${STABLEKD:-./stablekd}
mkdir -p runs/logs

echo "$(date -u +%H:%M) teacher: resnet56, 8 epochs (about 45 min on 2 cores; skipped once finished)"
"$sk" train --model resnet56 --epochs 8 --schedule cosine --seed 0 --out runs/teacher-resnet56 --resume --no-progress \
  >> runs/logs/teacher-resnet56.log 2>&1

# cell name, then the labels of lane 1 and of lane 2 (comma-separated). Cell A tries every method
# and variant; the others carry KD, CE and the StableKD variant that won on cell A's validation
# split (stablekd_short: a decomposition of 40 % of the epochs instead of 80 %).
cells=(
  "resnet8-10pct      kd,stablekd,ce,dkd  fitnets,stablekd_bnrecal,stablekd_nmse,stablekd_short"
  "resnet8-40pct      kd,ce               stablekd_short"
  "resnet8-10pct-20ep kd                  stablekd_short"
  "resnet20-10pct     kd,ce               stablekd_short,stablekd"
)
want=("$@")
for c in "${cells[@]}"; do
  read -r name lane1 lane2 <<<"$c"
  if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx -e "$name" -e "${name#resnet8-}"; then continue; fi
  cfg=docs/experiments/fashion-resnet56-$name.yaml
  echo "$(date -u +%H:%M) cell $name: lanes [$lane1] [$lane2]"
  "$sk" compare --config "$cfg" --threads 1 --no-progress --only "$lane1" > "runs/logs/$name-lane1.log" 2>&1 &
  p1=$!
  "$sk" compare --config "$cfg" --threads 1 --no-progress --only "$lane2" > "runs/logs/$name-lane2.log" 2>&1 || echo "lane 2 of $name failed: runs/logs/$name-lane2.log"
  wait $p1 || echo "lane 1 of $name failed: runs/logs/$name-lane1.log"
  "$sk" compare --config "$cfg" --report-only > "runs/logs/$name-report.log" 2>&1 || true   # the report over every finished run
  grep -h "report:" "runs/logs/$name-report.log" || true
done

#!/usr/bin/env bash
# Data-parallel on one machine: 2 ranks x 1 thread (mpirun) against 1 rank x 2 threads, and
# 2 ranks with the all-reduce after backward instead of during it, in alternating rounds.
# Each round is one `stablekd bench` (random data, warm-up, median step): teacher resnet56 alone,
# resnet20 alone, KD resnet56 -> resnet20, StableKD decomposed / merged / final.
# Usage: benchmarks/compare_dist.sh [ROUNDS] [BATCH]   (default 2 rounds, batch 64)
# Writes benchmarks/results/raw/dist-<date>/ (machine.txt, one log per run); prints a table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source scripts/java25.sh
source benchmarks/common.sh
rounds=${1:-2}
batch=${2:-64}
command -v mpirun >/dev/null || { echo "compare_dist: mpirun not found; install it with: scripts/install-mpi" >&2; exit 1; }
./stablekd --version >/dev/null   # build once, before the timed runs
out="benchmarks/results/raw/dist-$(date -u +%Y%m%dT%H%M)"
mkdir -p "$out"
args=(bench --teacher resnet56 --student resnet20 --batch "$batch" --warmup 5 --steps 20 --latency-calls 50)
machine_header "$out" "benchmarks/compare_dist.sh $rounds $batch"
mpi=(mpirun --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds: 1 rank x 2 threads" >&2
  ./stablekd "${args[@]}" --threads 2 > "$out/one-rank-2-threads-$r.log" 2>&1
  echo "round $r/$rounds: 2 ranks x 1 thread, overlapped" >&2
  OMPI_MCA_btl=self,vader "${mpi[@]}" ./stablekd "${args[@]}" --threads 1 --dist-overlap on > "$out/two-ranks-overlap-$r.log" 2>&1
  echo "round $r/$rounds: 2 ranks x 1 thread, after backward" >&2
  OMPI_MCA_btl=self,vader "${mpi[@]}" ./stablekd "${args[@]}" --threads 1 --dist-overlap off > "$out/two-ranks-after-$r.log" 2>&1
done
machine_footer "$out"
python3 benchmarks/table_dist.py "$out"

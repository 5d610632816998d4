#!/usr/bin/env bash
# Builds the engine (installed into the local Maven repository) and the JMH benchmarks, runs
# them with short settings, and prints a GFLOP/s table (also saved next to the JSON).
#
#   benchmarks/run.sh                         # everything on cpu, plus ref on two small shapes
#   benchmarks/run.sh ConvBench.forward       # a JMH regex: only the matching benchmarks (cpu)
#   benchmarks/run.sh ConvBench -p layer=r20-l1-16to16-32px -p batch=64   # extra JMH options
#   JMH_OPTS="-wi 5 -i 10 -f 2" benchmarks/run.sh SgemmBench              # longer runs
#
# Output: benchmarks/results/raw/jmh-<time>/ (machine.txt, the JMH JSON without per-sample raw
# data, table.md), committed as the evidence behind results/cpu.md. Needs Java 25 (found by
# scripts/java25.sh), Maven, and python3 for the table.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"
# shellcheck source=common.sh
source "$here/common.sh"

echo "== building the engine (mvn -DskipTests install) and the benchmarks" >&2
(cd "$root" && mvn -q -DskipTests install)
(cd "$here" && mvn -q package)

short_opts=${JMH_OPTS:-"-wi 2 -w 1s -i 3 -r 1s -f 1"}
stamp=$(date -u +%Y%m%d-%H%M%S)
out="$here/results/raw/jmh-$stamp"
mkdir -p "$out"
machine_header "$out" "JMH_OPTS=\"$short_opts\" benchmarks/run.sh $*"
jar="$here/target/benchmarks.jar"
run_jmh() { # run_jmh OUTPUT.json ARGS...
  local out=$1; shift
  # shellcheck disable=SC2086
  "$JAVA" $STABLEKD_JVM_FLAGS -jar "$jar" $short_opts -rf json -rff "$out" "$@"
}

jsons=()
if [ $# -gt 0 ]; then
  run_jmh "$out/jmh.json" "$@"
  jsons+=("$out/jmh.json")
else
  run_jmh "$out/jmh-cpu.json" 'SgemmBench|ConvBench'
  jsons+=("$out/jmh-cpu.json")
  # the scalar oracle is slow: one square product and two conv layers at batch 4
  run_jmh "$out/jmh-ref-gemm.json" SgemmBench -p backend=ref -p shape=256x256x256-NN
  run_jmh "$out/jmh-ref-conv.json" ConvBench -p backend=ref -p batch=4 \
      -p layer=r20-l1-16to16-32px,r20-l3-64to64-8px
  run_jmh "$out/jmh-cpu-b4.json" ConvBench -p backend=cpu -p batch=4 \
      -p layer=r20-l1-16to16-32px,r20-l3-64to64-8px
  jsons+=("$out/jmh-ref-gemm.json" "$out/jmh-ref-conv.json" "$out/jmh-cpu-b4.json")
fi
machine_footer "$out"
strip_jmh_raw "${jsons[@]}"
python3 "$here/table.py" "${jsons[@]}" | tee "$out/table.md"
echo "raw output: ${out#"$root/"}" >&2

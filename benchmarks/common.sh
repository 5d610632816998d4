# Sourced by the benchmark scripts: the record every raw-output folder starts with, and the JMH
# JSON trimmed to what the tables read.

# machine_header OUT_DIR COMMAND [EXTRA_LINE]: writes OUT_DIR/machine.txt (date, commit, machine,
# JDK, the command, load and host steal before) and echoes it to stderr.
machine_header() {
  local out=$1 command=$2 extra=${3:-}
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); commit: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src pom.xml || echo ' (+ uncommitted changes)')"
    echo "machine: $(nproc) cpus, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $("$JAVA" -version 2>&1 | head -1)"
    # the model name alone hides the generation (AMD EPYC: Zen 4 is family 25, Zen 5 family 26)
    echo "cpu: family $(sed -n 's/^cpu family[^:]*: *//p' /proc/cpuinfo | head -1) model $(sed -n 's/^model[^:]*: *//p' /proc/cpuinfo | head -1), $(grep -o 'avx512[a-z_0-9]*' /proc/cpuinfo | sort -u | wc -l) avx512 flags, L3 $(lscpu | sed -n 's/^L3 cache: *//p' | head -1 | grep . || echo 'not reported')"
    echo "command: $command"
    [ -z "$extra" ] || echo "$extra"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); steal before: $(awk '/^cpu /{print $9}' /proc/stat) jiffies"
  } | tee "$out/machine.txt" >&2
}

# machine_footer OUT_DIR: appends load and host steal after the run.
machine_footer() {
  echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); steal after: $(awk '/^cpu /{print $9}' /proc/stat) jiffies" | tee -a "$1/machine.txt" >&2
}

# strip_jmh_raw FILE.json...: drops JMH's per-sample data (megabytes), keeps scores and percentiles.
strip_jmh_raw() {
  python3 - "$@" <<'PY'
import json, sys
for f in sys.argv[1:]:
    data = json.load(open(f))
    for b in data:
        for m in [b["primaryMetric"], *b.get("secondaryMetrics", {}).values()]:
            m.pop("rawDataHistogram", None); m.pop("rawData", None)
    json.dump(data, open(f, "w"), indent=1)
PY
}

# The PyTorch anchor's environment: glibc malloc kept from handing freed memory back to the OS.
# PyTorch's CPU allocator is malloc; by default every step frees its activations to the OS and
# faults them in again (resnet20 batch 64: 12 000–17 000 page faults and ~0.1 s of system time
# per step on the 2-vCPU Zen 5, 2026-12-07), which made its step 1.7–2.3× slower at some minutes
# and not at others. Keeping the memory is what PyTorch's CPU tuning guides advise (there with
# jemalloc or tcmalloc, which this machine does not carry; these variables do it for glibc):
# measured the same minutes, resnet20 channels_last 203–231 → 85–90 ms, compiled 123–131 → 70.5 ms,
# under 100 page faults per step. ANCHOR_MALLOC=default runs the anchor untuned.
if [ "${ANCHOR_MALLOC:-tuned}" = default ]; then
  anchor_env=()
else
  anchor_env=(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824)
fi

# build_all: installs the engine and packages target/benchmarks.jar (each comparison script's first step).
build_all() {
  echo "== building the engine (mvn -DskipTests install) and the benchmarks" >&2
  (cd "$root" && mvn -q -DskipTests install)
  (cd "$here" && mvn -q package)
}

# new_raw_dir KIND: creates results/raw/KIND-<UTC time>/ and prints its path.
new_raw_dir() {
  local dir
  dir="$here/results/raw/$1-$(date -u +%Y%m%d-%H%M%S)"
  mkdir -p "$dir"
  echo "$dir"
}

# require_torch2 SCRIPT_NAME: stops with the one-line install hint unless $anchor has PyTorch 2.x.
require_torch2() {
  if ! "$anchor" -c 'import torch, sys; sys.exit(0 if int(torch.__version__.split(".")[0]) >= 2 else 1)' 2>/dev/null; then
    echo "$1: $anchor has no PyTorch 2.x; install the anchor with: python3 -m pip install torch==2.13.0+cpu" >&2
    exit 1
  fi
}

# The training benchmarks' JVM (TrainStepBench's JMH fork and TrainStepServe alike): ParallelGC,
# and the heap on huge pages where the kernel offers them (STABLEKD_THP_FLAG, scripts/java25.sh).
train_jvm_flags() {
  echo "-XX:+UseParallelGC -Xss4m $STABLEKD_THP_FLAG -Dstablekd.threads=$1"
}

#!/usr/bin/env bash
# Builds .gpu/ (git-ignored): everything a GPU machine without Java needs to run this project,
# small enough for the device's 64 MiB carry (working tree included):
#   1. a jlink'ed Java 25 runtime of java.base, jdk.incubator.vector, jdk.zipfs (JUnit scans jars
#      with it) and what JavaCPP needs (java.management, jdk.unsupported, java.logging); the GPU
#      tests and benchmarks draw no charts, so java.desktop (~19 MiB) stays out;
#   2. the runtime class path: the engine jar and its runtime dependencies, linux-x86_64 natives
#      only (never a -redist jar), and from the CUDA presets only the JNI bridges the backend
#      loads (cudart incl. the driver API, cublas, cudnn, nvrtc; not npp*, cufft*, cusolver, ...);
#   3. with --tests: the test classes, their dependencies and the JUnit console launcher (the
#      JUnit jars it already contains are dropped: two copies on one class path conflict);
#   4. env.sh, to source there: JAVA (with the flags every launch needs), CP, TESTCP, and
#      LD_LIBRARY_PATH with the NVIDIA libraries of the machine's pip wheels.
# Usage (repo root, after `mvn -q -DskipTests package`):  native/gpu-bundle.sh [--tests]
# Then: the device's run with carry [".gpu"] and a command starting `source .gpu/env.sh && ...`
# (benchmarks/results/gpu.md has the commands).
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
source scripts/java25.sh
tests=false; [ "${1:-}" = "--tests" ] && tests=true

jar=target/stablekd.jar
[ -f "$jar" ] || { echo "native/gpu-bundle: no $jar; run 'mvn -q -DskipTests package' first" >&2; exit 2; }
rm -rf .gpu; mkdir -p .gpu/lib
cp "$jar" .gpu/lib/
mvn -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=.gpu/lib >/dev/null
rm -f .gpu/lib/*-redist-* .gpu/lib/*windows* .gpu/lib/*macosx* .gpu/lib/*linux-arm64* .gpu/lib/*linux-ppc64le* .gpu/lib/*android* .gpu/lib/*ios*
# charts (report package: XChart and its PDF/SVG/GIF writers) are never drawn on the GPU machine: 4.3 MB
no_charts() { for d in "$@"; do rm -f "$d"/xchart-* "$d"/pdfbox-* "$d"/fontbox-* "$d"/graphics2d-* "$d"/VectorGraphics2D-* "$d"/animated-gif-lib-* "$d"/commons-logging-*; done; }
no_charts .gpu/lib

cuda_jar=$(ls .gpu/lib/cuda-*-linux-x86_64.jar)
keep='libjnicudart|libjnicublas|libjnicudnn|libjninvrtc'
drop=$(unzip -Z1 "$cuda_jar" | grep -E '^org/bytedeco/cuda/linux-x86_64/lib.*\.so' | grep -vE "/($keep)\.so" || true)
# shellcheck disable=SC2086
[ -z "$drop" ] || zip -q -d "$cuda_jar" $drop

if $tests; then
  cp -r target/test-classes .gpu/test-classes
  rm -rf .gpu/test-classes/golden   # PyTorch fixtures of the CPU tests; no GPU test reads them (1.6 MB)
  mvn -q dependency:copy-dependencies -DincludeScope=test -DoutputDirectory=.gpu/testlib >/dev/null
  for f in .gpu/lib/*.jar; do rm -f ".gpu/testlib/$(basename "$f")"; done
  no_charts .gpu/testlib
  rm -f .gpu/testlib/*-redist-* .gpu/testlib/jmh-* .gpu/testlib/*windows* .gpu/testlib/*macosx* .gpu/testlib/*linux-arm64* .gpu/testlib/*linux-ppc64le*
  mvn -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 -DoutputDirectory=.gpu/testlib >/dev/null
  for f in .gpu/testlib/*.jar; do
    case "$(basename "$f")" in
      junit-platform-console-standalone-*) ;;
      junit-jupiter*|junit-platform-*|opentest4j-*|apiguardian-api-*) rm -f "$f" ;;
    esac
  done
  ls .gpu/testlib/junit-platform-console-standalone-*.jar >/dev/null
fi

mods=${JLINK_MODULES:-java.base,jdk.incubator.vector,jdk.zipfs,java.management,jdk.unsupported,java.logging}
"$JAVA_HOME/bin/jlink" --add-modules "$mods" --strip-debug --no-man-pages --no-header-files \
  --compress=zip-9 --output .gpu/jre 2>&1 | grep -v 'incubator' || true
strip --strip-unneeded .gpu/jre/lib/server/libjvm.so 2>/dev/null || true
[ -x .gpu/jre/bin/java ] || { echo "native/gpu-bundle: jlink did not build .gpu/jre" >&2; exit 1; }

cat > .gpu/env.sh <<'ENV'
# Source on the GPU machine: sets JAVA, CP, TESTCP and LD_LIBRARY_PATH (the NVIDIA libraries of
# the machine's pip wheels; pathsFirst makes JavaCPP's bridges load those, not bundled copies).
G=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NV=$(python3 -c 'import nvidia,os; print(list(nvidia.__path__)[0])' 2>/dev/null || true)
if [ -n "$NV" ]; then export LD_LIBRARY_PATH="$(find "$NV" -type d -name lib | tr '\n' ':')${LD_LIBRARY_PATH:-}"; fi
JAVA="$G/jre/bin/java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dorg.bytedeco.javacpp.pathsFirst=true -Djava.library.path=${LD_LIBRARY_PATH:-}"
CP="$G/lib/*"
TESTCP="$G/test-classes:$G/lib/*:$G/testlib/*"  # $JAVA -jar $G/testlib/junit-platform-console-standalone-*.jar -cp "$TESTCP" --scan-class-path --include-tag gpu
export JAVA CP TESTCP
ENV
# the device carries the working tree (tracked and untracked, not ignored files) and .gpu: at most 64 MiB in all
bundle=$(du -sb .gpu | cut -f1)
tree=$(git ls-files -z -co --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
total=$((bundle + tree))
printf 'native/gpu-bundle: .gpu is %.1f MiB, the working tree %.1f MiB: %.1f MiB of the 64 MiB a device call carries\n' \
  "$(echo "$bundle / 1048576" | bc -l)" "$(echo "$tree / 1048576" | bc -l)" "$(echo "$total / 1048576" | bc -l)"
[ "$total" -le $((64 * 1048576)) ] || { echo "native/gpu-bundle: the carry is over 64 MiB; drop from .gpu what the GPU run does not need" >&2; exit 1; }

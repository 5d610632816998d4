#!/usr/bin/env bash
# .gpu/ for a GPU run of the CUDA backend, small enough for the device's 64 MiB carry:
#   1. ../shared/tools/gpu-bundle.sh with a JRE of java.base, jdk.incubator.vector, jdk.zipfs (plus the
#      modules that script always adds); the GPU tests and benchmarks draw no charts, so
#      java.desktop (~19 MiB, needed by the report code) stays out (jdk.zipfs: JUnit scans jars with it);
#   2. from the CUDA presets' linux-x86_64 jar, drop the JNI bridges the backend never loads (it
#      uses cudart incl. the driver API, cublas, cudnn, nvrtc; not npp*, cufft*, cusolver, ...);
#   3. drop the JUnit jars that junit-platform-console-standalone already contains (two copies
#      of the engine on one class path is a version conflict anyway).
# Usage (repo root, after `mvn -q -DskipTests package`):  native/gpu-bundle.sh --tests
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
# the shared script's own size check runs before the trim below, so its verdict is not final
JLINK_MODULES=${JLINK_MODULES:-java.base,jdk.incubator.vector,jdk.zipfs} ${GPU_BUNDLE:-../shared/tools/gpu-bundle.sh} "$@" || true
[ -x .gpu/jre/bin/java ] && ls .gpu/lib/stablekd.jar >/dev/null || { echo "native/gpu-bundle: ../shared/tools/gpu-bundle.sh did not build .gpu" >&2; exit 1; }

cuda_jar=$(ls .gpu/lib/cuda-*-linux-x86_64.jar)
keep='libjnicudart|libjnicublas|libjnicudnn|libjninvrtc'
drop=$(unzip -Z1 "$cuda_jar" | grep -E '^org/bytedeco/cuda/linux-x86_64/lib.*\.so' | grep -vE "/($keep)\.so" || true)
[ -z "$drop" ] || zip -q -d "$cuda_jar" $drop
if [ -d .gpu/testlib ]; then
  standalone=$(ls .gpu/testlib/junit-platform-console-standalone-*.jar)
  for f in .gpu/testlib/*.jar; do
    case "$(basename "$f")" in
      junit-platform-console-standalone-*) ;;
      junit-jupiter*|junit-platform-*|opentest4j-*|apiguardian-api-*) rm -f "$f" ;;
    esac
  done
  [ -f "$standalone" ]
fi
size=$(du -sm .gpu | cut -f1)
echo "native/gpu-bundle: .gpu is ${size} MiB after trimming (the device carries at most 64 MiB with the working tree)"
[ "$size" -lt 60 ] || { echo "native/gpu-bundle: still too large" >&2; exit 1; }

# Sourced by every script: finds a Java 25+ JDK and exports JAVA_HOME and JAVA.
# Order: $JAVA_HOME if it is 25+, then /usr/lib/jvm/*25* (and newer), else one clear error.
_stablekd_java_version() { # prints the feature version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1
}
_stablekd_find_java() {
  local cand v
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*3[0-9]*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$(_stablekd_java_version "$cand/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then echo "$cand"; return 0; fi
  done
  return 1
}
if ! JAVA_HOME=$(_stablekd_find_java); then
  echo "stablekd: no Java 25 found (checked \$JAVA_HOME and /usr/lib/jvm/*25*); install a JDK 25 (e.g. Temurin 25) or set JAVA_HOME to one." >&2
  exit 1
fi
export JAVA_HOME
export JAVA="$JAVA_HOME/bin/java"
export PATH="$JAVA_HOME/bin:$PATH"
# The JVM flags every launch needs (docs/design.md, Toolchain).
STABLEKD_JVM_FLAGS="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED"
# Maven 3.8 on Java 25 warns about sun.misc.Unsafe in its own libraries; keep the output clean.
export MAVEN_OPTS="--sun-misc-unsafe-memory-access=allow ${MAVEN_OPTS:-}"
# The training benchmarks' JVMs (ParallelGC, as TrainStepBench's fork) run the heap on transparent
# huge pages where the kernel offers them ("always" or "madvise"). Two warm JVMs alternated block by
# block (2026-12-07, Zen 5), ParallelGC: resnet8x4's step 2.6-6 % faster with it, wrn_16_2's
# 3.5-4 %, resnet20's and KD's within the noise. Under the launcher's SerialGC -Xmn32m it gave
# nothing (1.020 and, order swapped, 1.000), so ./stablekd does not pass it; ParallelGC with it ran
# resnet8x4 0.967x the launcher's time per round (benchmarks/results/cpu.md, 2026-12-07).
STABLEKD_THP_FLAG=""
if grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null; then
  STABLEKD_THP_FLAG="-XX:+UseTransparentHugePages"
fi

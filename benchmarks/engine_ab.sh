#!/usr/bin/env bash
# What a change did to the training step, measured against the engine of another commit in the
# same JVM (org.stablekd.bench.EngineAB: the two builds' steps alternate, so the host's phases fall
# on both). Builds the engine and benchmarks of the working tree, and the engine classes of COMMIT
# in a git worktree under ${TMPDIR:-/tmp}.
#
#   benchmarks/engine_ab.sh COMMIT [model=resnet20] [seconds=60] [input=3x32x32] [batch=64]
#   benchmarks/engine_ab.sh HEAD~3 kd:resnet56:resnet20 90
#
# Prints, and keeps in benchmarks/results/raw/engine-ab-<time>/result.txt, the date, both commits,
# load and steal, and one line per build: steps, median, p25, p75 ms per step. Needs Java 25
# (scripts/java25.sh) and Maven.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
# shellcheck source=../scripts/java25.sh
source "$root/scripts/java25.sh"
[ $# -ge 1 ] || { echo "usage: benchmarks/engine_ab.sh COMMIT [model] [seconds] [input] [batch]" >&2; exit 2; }
commit=$(git -C "$root" rev-parse --short "$1") || { echo "engine_ab.sh: $1 is not a commit of this repository" >&2; exit 2; }
shift
tree="${TMPDIR:-/tmp}/stablekd-engine-ab-$commit"
echo "== engine of $commit in $tree" >&2
[ -d "$tree" ] || git -C "$root" worktree add --detach -q "$tree" "$commit"
(cd "$tree" && mvn -q -o -DskipTests compile) >&2
echo "== engine and benchmarks of the working tree" >&2
(cd "$root" && mvn -q -o -DskipTests install && cd benchmarks && mvn -q -o package) >&2
out="$here/results/raw/engine-ab-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$out"
{
echo "command: benchmarks/engine_ab.sh $commit $*"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); old: $commit; new: $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- src pom.xml || echo ' (+ uncommitted changes)')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); steal before: $(awk '/^cpu /{print $9}' /proc/stat) jiffies"
"$JAVA" -XX:+UseParallelGC -Xmn64m --add-modules jdk.incubator.vector -cp "$here/target/benchmarks.jar" \
    org.stablekd.bench.EngineAB "$tree/target/classes" "$@" 2>&1 | grep -v '^WARNING'
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); steal after: $(awk '/^cpu /{print $9}' /proc/stat) jiffies"
} | tee "$out/result.txt"
echo "raw output: ${out#"$root"/}" >&2

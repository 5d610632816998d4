#!/usr/bin/env python3
"""Where a training step's thread time goes, from a JFR recording's execution samples.

    java -jar benchmarks/target/benchmarks.jar TrainStepBench -p model=resnet20 -p input=3x32x32 \
        -wi 3 -i 10 -jvmArgsAppend "-XX:StartFlightRecording=filename=/tmp/step.jfr,settings=profile"
    $JAVA_HOME/bin/jfr print --events jdk.ExecutionSample --stack-depth 64 /tmp/step.jfr > /tmp/step.txt
    python3 benchmarks/jfr_step_profile.py /tmp/step.txt

Each sample of the benchmark's thread and of the pool's workers (stablekd-cpu-N) falls in one of:
  work   inside a Parallel job (Parallel$Job.work), counted by its innermost stablekd method;
  wait   the caller in Parallel$Job.await (its chunks done, a worker's not);
  spin   a worker between jobs (Worker.run spinning or parked);
  serial the caller outside any job (autograd, allocation, a kernel's serial part), by its three
         innermost stablekd methods.
Samples are taken every ~10-20 ms per thread (settings=profile), so a share under ~0.5 % of a
minute's recording is a handful of samples: read it as an order of magnitude.
"""
import collections
import re
import sys


def frames(event):
    return [f.split("(")[0] for f in re.findall(r"^\s{4}(\S.*?) line:", event, re.M)]


def main(path):
    text = open(path).read()
    kind = collections.Counter()
    work = collections.Counter()
    serial = collections.Counter()
    for event in text.split("jdk.ExecutionSample {")[1:]:
        thread = re.search(r'sampledThread = "([^"]+)"', event).group(1)
        fs = frames(event)
        if not fs:
            continue
        ours = [f.replace("org.stablekd.backend.cpu.", "").replace("org.stablekd.", "") for f in fs if "org.stablekd" in f]
        worker = thread.startswith("stablekd-cpu-")
        if not worker and not any("TrainStep" in f or "bench" in f for f in ours):
            continue   # JMH's own threads, the JIT, GC
        who = "worker" if worker else "caller"
        if any("Parallel$Job.await" in f for f in fs):
            kind[(who, "wait")] += 1
        elif any("Parallel$Job.work" in f for f in fs):
            kind[(who, "work")] += 1
            inner = [f for f in ours if not f.startswith("Parallel")]
            work[inner[0] if inner else "?"] += 1
        elif worker:
            kind[(who, "spin")] += 1
        else:
            kind[(who, "serial")] += 1
            serial[" <- ".join(ours[:3])] += 1
    for who in ("caller", "worker"):
        total = sum(v for (w, _), v in kind.items() if w == who)
        parts = ", ".join(f"{k} {100 * v / total:.1f} %" for (w, k), v in sorted(kind.items()) if w == who)
        print(f"{who}: {total} samples: {parts}")
    total = sum(work.values())
    print(f"\n| innermost method in a job | samples | % of job samples |\n|---|---:|---:|")
    for name, n in work.most_common(25):
        print(f"| {name} | {n} | {100 * n / total:.1f} |")
    print(f"\n| caller outside jobs (three innermost) | samples |\n|---|---:|")
    for name, n in serial.most_common(12):
        print(f"| {name} | {n} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: benchmarks/jfr_step_profile.py <jfr print --events jdk.ExecutionSample output>")
    main(sys.argv[1])

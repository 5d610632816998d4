"""Scratch: two TrainStepServe JVMs (flags A and B) alternated block by block on one workload."""
import sys, os, time, statistics, shlex
sys.path.insert(0, '/work/main/benchmarks')
from compare_train_interleaved import Server
java = os.environ['JAVA']
base = java + " --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC -Xss4m -Dstablekd.threads=2 %s -cp /work/main/benchmarks/target/benchmarks.jar org.stablekd.bench.TrainStepServe 3x32x32 64 " 
w, fa, fb, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
log = open('/tmp/jj.log', 'w')
A = Server("A", shlex.split(base % fa) + [w], log)
B = Server("B", shlex.split(base % fb) + [w], log)
for s in (A, B): s.block(w, 20)
n = max(2, round(1500 / statistics.median(A.block(w, 3))))
ra, rb = [], []
end = time.monotonic() + secs; r = 0
while time.monotonic() < end:
    for s, acc in ((A, ra), (B, rb)) if r % 2 == 0 else ((B, rb), (A, ra)):
        acc.append(statistics.median(s.block(w, n))); time.sleep(0.1)
    r += 1
ratios = [b / a for a, b in zip(ra, rb)]
print("%s: A(%s) %.1f ms, B(%s) %.1f ms, B/A %.3f, per-round B/A median %.3f quartiles %s, %d rounds" % (w, fa, statistics.median(ra), fb, statistics.median(rb), statistics.median(rb) / statistics.median(ra), statistics.median(ratios), [round(q, 3) for q in statistics.quantiles(ratios, n=4)], r))
A.close(); B.close()

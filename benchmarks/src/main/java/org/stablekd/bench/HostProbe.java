package org.stablekd.bench;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the host gives this VM right now, in one line (about 3 s): the load-to-load latency of a
 * random pointer chase over 2, 4, 8 and 16 MiB (where it jumps from ~15 ns to ~130 ns is the
 * last-level cache this VM actually gets), the read bandwidth of two threads streaming 12 MiB each
 * at once, the round trip of a cache line between two threads, and the AVX-512 FMA rate of one
 * thread alone and of two at once (two at half rate would mean the two vCPUs share one core).
 *
 * <p>Why: the 2-thread training step drifts by up to a third between minutes, more than one
 * thread's step (PoolVsCaller). Probed 2026-12-06 on the 2-vCPU Zen 4 (results/cpu.md, 15:50): the
 * cores were always separate (full FMA rate each, 54–91 ns round trip), but the chase over 8 MiB
 * took anywhere from 17 to 145 ns per load from one second to the next although lscpu reports a
 * 32 MiB L3: other tenants take most of it, and stage 1's 4 MiB activations at batch 64 often come
 * from DRAM. A snapshot did not predict a slow 10-second window, though: the host changes faster.
 * compare_train_step.sh runs this before each round.
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar org.stablekd.bench.HostProbe
 * </pre>
 */
public final class HostProbe {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    private HostProbe() {}

    public static void main(String[] args) throws Exception {
        System.out.println("host probe: " + full());
    }

    /** The whole probe (about 3 s). */
    static String full() throws Exception {
        StringBuilder line = new StringBuilder("chase ns/load");
        for (int mib : new int[] {2, 4, 8, 16}) line.append(String.format(" %d MiB %.0f,", mib, chaseNanos(mib << 20)));
        line.setLength(line.length() - 1);
        double[] read = concurrently(2, HostProbe::readGBps);
        double[] alone = concurrently(1, HostProbe::fmaG);
        double[] both = concurrently(2, HostProbe::fmaG);
        return line.append(String.format("; read 2×12 MiB %.0f+%.0f GB/s; round trip %.0f ns; FMA%d G/s alone %.2f, together %.2f+%.2f",
                read[0], read[1], roundTripNanos(), SPECIES.length() * 32, alone[0], both[0], both[1])).toString();
    }

    /** The cache and memory part only (about 0.5 s): chase over 8 MiB, two threads' read bandwidth. */
    static String brief() throws Exception {
        double[] read = concurrently(2, HostProbe::readGBps);
        return String.format("chase 8 MiB %.0f ns, read %.0f GB/s", chaseNanos(8 << 20), read[0] + read[1]);
    }

    /** ns per dependent load over a random cycle through every 64-byte line of `bytes`. */
    static double chaseNanos(int bytes) {
        int lines = bytes / 64, stride = 16;   // 16 ints per line
        int[] order = new int[lines];
        for (int i = 0; i < lines; i++) order[i] = i;
        java.util.Random rng = new java.util.Random(1);
        for (int i = lines - 1; i > 0; i--) { int j = rng.nextInt(i + 1), t = order[i]; order[i] = order[j]; order[j] = t; }
        int[] next = new int[bytes / 4];
        for (int i = 0; i < lines; i++) next[order[i] * stride] = order[(i + 1) % lines] * stride;
        int p = 0;
        for (int i = 0; i < 2 * lines; i++) p = next[p];   // warm: twice round the cycle
        int steps = 2_000_000;
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) p = next[p];
        double ns = (System.nanoTime() - t0) / (double) steps;
        if (p == -1) System.out.print("");   // keep p live
        return ns;
    }

    /** GB/s of summing 12 MiB of floats 5 times (prepared: the pages faulted in, the loop compiled). */
    static DoubleSupplier readGBps() {
        float[] a = new float[3 << 20];
        for (int i = 0; i < a.length; i++) a[i] = i * 1e-9f;
        for (int r = 0; r < 20; r++) sum(a);
        return () -> {
            long t0 = System.nanoTime();
            float s = 0;
            for (int r = 0; r < 5; r++) s += sum(a);
            double gbps = 5.0 * 4 * a.length / (System.nanoTime() - t0);
            if (s == -1) System.out.print("");
            return gbps;
        };
    }

    private static float sum(float[] a) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
        int l = SPECIES.length();
        for (int i = 0; i + 4 * l <= a.length; i += 4 * l) {
            s0 = s0.add(FloatVector.fromArray(SPECIES, a, i));
            s1 = s1.add(FloatVector.fromArray(SPECIES, a, i + l));
            s2 = s2.add(FloatVector.fromArray(SPECIES, a, i + 2 * l));
            s3 = s3.add(FloatVector.fromArray(SPECIES, a, i + 3 * l));
        }
        return s0.add(s1).add(s2).add(s3).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    /** Billions of vector FMAs per second on 10 independent chains (prepared: the loop compiled). */
    static DoubleSupplier fmaG() {
        for (int r = 0; r < 5; r++) fmaLoop(2_000_000);
        return () -> {
            long n = 50_000_000L, t0 = System.nanoTime();
            fmaLoop(n);
            return n * 10.0 / (System.nanoTime() - t0);
        };
    }

    private static float fmaLoop(long n) {
        FloatVector x = FloatVector.broadcast(SPECIES, 0.999f), y = FloatVector.broadcast(SPECIES, 0.001f);
        FloatVector c0 = x, c1 = y, c2 = x, c3 = y, c4 = x, c5 = y, c6 = x, c7 = y, c8 = x, c9 = y;
        for (long i = 0; i < n; i++) {
            c0 = c0.fma(x, y); c1 = c1.fma(x, y); c2 = c2.fma(x, y); c3 = c3.fma(x, y); c4 = c4.fma(x, y);
            c5 = c5.fma(x, y); c6 = c6.fma(x, y); c7 = c7.fma(x, y); c8 = c8.fma(x, y); c9 = c9.fma(x, y);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).lane(0);
    }

    /** ns for a value to go to the other thread and back (both spinning on one shared counter). */
    static double roundTripNanos() throws InterruptedException {
        AtomicLong flag = new AtomicLong();
        int trips = 1_000_000;
        Thread pong = new Thread(() -> {
            for (long i = 0; i < trips; i++) {
                while (flag.get() != 2 * i + 1) Thread.onSpinWait();
                flag.set(2 * i + 2);
            }
        });
        pong.start();
        long t0 = System.nanoTime();
        for (long i = 0; i < trips; i++) {
            flag.set(2 * i + 1);
            while (flag.get() != 2 * i + 2) Thread.onSpinWait();
        }
        double ns = (System.nanoTime() - t0) / (double) trips;
        pong.join();
        return ns;
    }

    /** Prepares a probe on each of `threads` threads, then runs them all at once; their results in thread order. */
    private static double[] concurrently(int threads, Supplier<DoubleSupplier> prepare) throws Exception {
        double[] out = new double[threads];
        CyclicBarrier start = new CyclicBarrier(threads);
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = new Thread(() -> {
                DoubleSupplier probe = prepare.get();
                try {
                    start.await();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                out[id] = probe.getAsDouble();
            });
            ts[t].start();
        }
        for (Thread t : ts) t.join();
        return out;
    }
}

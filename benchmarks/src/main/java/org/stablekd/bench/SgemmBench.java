package org.stablekd.bench;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.stablekd.backend.GemmKernels;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * c (m,n) = op(a)·op(b), F32, on one backend. GFLOP/s = the {@code gflop} secondary result
 * (2·m·n·k per call). Shapes: square products, and the linear layers of the CIFAR models at
 * batch 64 (forward x·wᵀ is "NT", the weight gradient dyᵀ·x is "TN").
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class SgemmBench {
    /** "MxNxK" plus the transposes: NN, NT (b transposed) or TN (a transposed). */
    @Param({"256x256x256-NN", "1024x1024x1024-NN", "1024x1024x1024-TN",
            "64x100x64-NT", "100x64x64-TN", "64x100x256-NT", "100x256x64-TN", "64x100x1280-NT", "100x1280x64-TN"})
    public String shape;

    @Param({"cpu"})
    public String backend;

    private GemmKernels gemm;
    private boolean transA, transB;
    private Tensor a, b, c;
    private double gflopPerCall;

    @Setup
    public void setup() {
        String[] parts = shape.split("-");
        String[] mnk = parts[0].split("x");
        int m = Integer.parseInt(mnk[0]), n = Integer.parseInt(mnk[1]), k = Integer.parseInt(mnk[2]);
        transA = parts[1].charAt(0) == 'T';
        transB = parts[1].charAt(1) == 'T';
        Rng rng = new Rng(42);
        a = transA ? Inputs.random(rng, k, m) : Inputs.random(rng, m, k);
        b = transB ? Inputs.random(rng, n, k) : Inputs.random(rng, k, n);
        c = Inputs.random(rng, m, n);
        gemm = Inputs.backend(backend).gemm();
        gflopPerCall = 2.0 * m * n * k / 1e9;
    }

    @Benchmark
    public Tensor matmul(Gflops flops) {
        gemm.matmul(transA, transB, 1, a, b, 0, c);
        flops.gflop += gflopPerCall;
        return c;
    }
}

package org.stablekd.bench;

import java.util.Map;
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
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * conv2d forward, input gradient and weight gradient of every distinct convolution of resnet20
 * (CIFAR, 3×32×32, filters 16/32/64) and resnet8x4 (filters 32/64/128/256), no bias (as in the
 * models), on one backend. GFLOP/s = the {@code gflop} secondary result, 2·MACs per call.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class ConvBench {
    /** Layer name → {c, h (= w), k, kernel, stride, pad}. */
    static final Map<String, int[]> LAYERS = Map.ofEntries(
            // resnet20
            Map.entry("r20-stem-3to16-32px", new int[] {3, 32, 16, 3, 1, 1}),
            Map.entry("r20-l1-16to16-32px", new int[] {16, 32, 16, 3, 1, 1}),
            Map.entry("r20-l2a-16to32-s2", new int[] {16, 32, 32, 3, 2, 1}),
            Map.entry("r20-l2sc-1x1-16to32-s2", new int[] {16, 32, 32, 1, 2, 0}),
            Map.entry("r20-l2-32to32-16px", new int[] {32, 16, 32, 3, 1, 1}),
            Map.entry("r20-l3a-32to64-s2", new int[] {32, 16, 64, 3, 2, 1}),
            Map.entry("r20-l3sc-1x1-32to64-s2", new int[] {32, 16, 64, 1, 2, 0}),
            Map.entry("r20-l3-64to64-8px", new int[] {64, 8, 64, 3, 1, 1}),
            // resnet8x4
            Map.entry("r8x4-stem-3to32-32px", new int[] {3, 32, 32, 3, 1, 1}),
            Map.entry("r8x4-l1a-32to64-32px", new int[] {32, 32, 64, 3, 1, 1}),
            Map.entry("r8x4-l1sc-1x1-32to64", new int[] {32, 32, 64, 1, 1, 0}),
            Map.entry("r8x4-l1-64to64-32px", new int[] {64, 32, 64, 3, 1, 1}),
            Map.entry("r8x4-l2a-64to128-s2", new int[] {64, 32, 128, 3, 2, 1}),
            Map.entry("r8x4-l2sc-1x1-64to128-s2", new int[] {64, 32, 128, 1, 2, 0}),
            Map.entry("r8x4-l2-128to128-16px", new int[] {128, 16, 128, 3, 1, 1}),
            Map.entry("r8x4-l3a-128to256-s2", new int[] {128, 16, 256, 3, 2, 1}),
            Map.entry("r8x4-l3sc-1x1-128to256-s2", new int[] {128, 16, 256, 1, 2, 0}),
            Map.entry("r8x4-l3-256to256-8px", new int[] {256, 8, 256, 3, 1, 1}));

    @Param({"r20-stem-3to16-32px", "r20-l1-16to16-32px", "r20-l2a-16to32-s2", "r20-l2sc-1x1-16to32-s2",
            "r20-l2-32to32-16px", "r20-l3a-32to64-s2", "r20-l3sc-1x1-32to64-s2", "r20-l3-64to64-8px",
            "r8x4-stem-3to32-32px", "r8x4-l1a-32to64-32px", "r8x4-l1sc-1x1-32to64", "r8x4-l1-64to64-32px",
            "r8x4-l2a-64to128-s2", "r8x4-l2sc-1x1-64to128-s2", "r8x4-l2-128to128-16px",
            "r8x4-l3a-128to256-s2", "r8x4-l3sc-1x1-128to256-s2", "r8x4-l3-256to256-8px"})
    public String layer;

    @Param({"cpu"})
    public String backend;

    @Param({"64"})
    public int batch;

    private ConvKernels conv;
    private ConvGeometry g;
    private Tensor x, w, y, dy, dx, dw;
    private double gflopPerCall;

    @Setup
    public void setup() {
        int[] l = LAYERS.get(layer);
        if (l == null) throw new IllegalArgumentException("unknown layer '" + layer + "'; known: " + LAYERS.keySet());
        g = ConvGeometry.of(batch, l[0], l[1], l[1], l[2], l[3], l[3], l[4], l[4], l[5], l[5], 1);
        Rng rng = new Rng(42);
        x = Inputs.random(rng, g.n(), g.c(), g.h(), g.w());
        w = Inputs.random(rng, g.k(), g.cPerGroup(), g.r(), g.s());
        dy = Inputs.random(rng, g.n(), g.k(), g.p(), g.q());
        y = Inputs.random(rng, g.n(), g.k(), g.p(), g.q());
        dx = Inputs.random(rng, g.n(), g.c(), g.h(), g.w());
        dw = Inputs.random(rng, g.k(), g.cPerGroup(), g.r(), g.s());
        conv = Inputs.backend(backend).conv();
        gflopPerCall = 2.0 * g.macs() / 1e9;
    }

    @Benchmark
    public Tensor forward(Gflops flops) {
        conv.forward(g, x, w, null, y);
        flops.gflop += gflopPerCall;
        return y;
    }

    @Benchmark
    public Tensor backwardInput(Gflops flops) {
        conv.backwardInput(g, dy, w, dx);
        flops.gflop += gflopPerCall;
        return dx;
    }

    @Benchmark
    public Tensor backwardWeight(Gflops flops) {
        conv.backwardWeight(g, x, dy, dw, null);
        flops.gflop += gflopPerCall;
        return dw;
    }
}

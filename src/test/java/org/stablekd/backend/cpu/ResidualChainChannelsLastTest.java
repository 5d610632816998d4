package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.WeightCache;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * The channels-last chain of identity residual blocks ({@link ResidualChainChannelsLast}): the
 * bits of the blocks run one by one on WinogradChannelsLast (NCHW in and out), with and without a
 * WeightCache; within the oracle's tolerance of ref's convolutions; the layout changes are exact
 * transposes; the CPU backend takes the chain where its rule says and gives the bits of its own
 * block-by-block kernels there.
 */
class ResidualChainChannelsLastTest {
    record Case(String name, int n, int c, int h, int w, int blocks) {
        ConvGeometry g() { return ConvGeometry.of(n, c, h, w, c, 3, 3, 1, 1, 1, 1, 1); }
        @Override public String toString() { return name + " " + g() + ", " + blocks + " blocks"; }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                new Case("resnet20 stage 1 at batch 2", 2, 16, 32, 32, 3),
                new Case("resnet56 stage 3 at batch 1 (parts of k)", 1, 64, 8, 8, 2),
                new Case("batch 3, 11x13 (tile overhang; pixels not a multiple of 16), 32 channels", 3, 32, 11, 13, 2),
                new Case("batch 2, 5x6, 48 channels (not a multiple of 64)", 2, 48, 5, 6, 2),
                new Case("1x1 image, 16 channels", 1, 16, 1, 1, 2),
                new Case("batch 1, 20x36 (bands of one image), one block", 1, 16, 20, 36, 1)).map(Arguments::of);
    }

    /** Weights w1, w2 (c, c, 3, 3) in ±1/√(9c) and biases in ±0.5 per block: outputs of order 1 through the chain. */
    private static Tensor[][] weights(Case tc, Rng rng) {
        double s = 1 / Math.sqrt(9.0 * tc.c());
        Tensor[][] wb = new Tensor[4][tc.blocks()];
        for (int i = 0; i < tc.blocks(); i++) {
            wb[0][i] = Tensor.uniform(rng, DType.F32, -s, s, tc.c(), tc.c(), 3, 3);
            wb[1][i] = Tensor.uniform(rng, DType.F32, -0.5, 0.5, tc.c());
            wb[2][i] = Tensor.uniform(rng, DType.F32, -s, s, tc.c(), tc.c(), 3, 3);
            wb[3][i] = Tensor.uniform(rng, DType.F32, -0.5, 0.5, tc.c());
        }
        return wb;
    }

    private static Tensor chain(ConvGeometry g, Tensor x, Tensor[][] wb) {
        Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
        ResidualChainChannelsLast.run(g, x, wb[0], wb[1], wb[2], wb[3], y);
        return y;
    }

    /** The blocks one by one on WinogradChannelsLast's NCHW forward: t = relu(conv + b1), x = relu(conv(t) + b2 + x). */
    private static Tensor blocksOneByOne(ConvGeometry g, Tensor x, Tensor[][] wb) {
        for (int i = 0; i < wb[0].length; i++) {
            Tensor t = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            Tensor y = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
            WinogradChannelsLast.forward(g, x.segment(), x.offset(), wb[0][i].segment(), wb[0][i].offset(), wb[1][i].segment(),
                    wb[1][i].offset(), t.segment(), t.offset(), true);
            WinogradChannelsLast.forwardAddRelu(g, t.segment(), t.offset(), wb[2][i].segment(), wb[2][i].offset(), wb[3][i].segment(),
                    wb[3][i].offset(), x.segment(), x.offset(), y.segment(), y.offset());
            x = y;
        }
        return x;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bitsOfTheBlocksOneByOne(Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only (it shares WinogradConv's transforms)");
        ConvGeometry g = tc.g();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode());
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
            Tensor[][] wb = weights(tc, rng);
            float[] before = x.toFloatArray(), want = blocksOneByOne(g, x, wb).toFloatArray();
            Close.assertBitIdentical(want, chain(g, x, wb).toFloatArray(), "chain " + tc);
            WeightCache cache = new WeightCache();
            for (int round = 0; round < 2; round++) {   // round 0 caches the transformed weights, round 1 reads them
                Tensor[] y = new Tensor[1];
                cache.run(() -> y[0] = chain(g, x, wb));
                Close.assertBitIdentical(want, y[0].toFloatArray(), "chain under a WeightCache, round " + round + " " + tc);
            }
            Close.assertBitIdentical(before, x.toFloatArray(), "the input is left as it was");
        }
    }

    /** Against ref's convolution, ADD and ReLU block by block, within the oracle tolerance. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void closeToRef(Case tc) {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only");
        ConvGeometry g = tc.g();
        ConvKernels ref = Backends.ref().conv();
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(tc.name().hashCode() + 7);
            Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
            Tensor[][] wb = weights(tc, rng);
            float[] cur = x.toFloatArray();
            for (int i = 0; i < tc.blocks(); i++) {
                Tensor in = Tensor.of(cur, g.n(), g.c(), g.h(), g.w());
                Tensor t = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w()), u = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w());
                ref.forward(g, in, wb[0][i], wb[1][i], t);
                float[] tf = t.toFloatArray();
                for (int e = 0; e < tf.length; e++) tf[e] = Math.max(tf[e], 0f);
                ref.forward(g, Tensor.of(tf, g.n(), g.c(), g.h(), g.w()), wb[2][i], wb[3][i], u);
                float[] uf = u.toFloatArray();
                for (int e = 0; e < uf.length; e++) uf[e] = Math.max(uf[e] + cur[e], 0f);
                cur = uf;
            }
            Close.assertClose(chain(g, x, wb), Tensor.of(cur, g.n(), g.c(), g.h(), g.w()), Tolerance.F32_VS_REF, "chain vs ref " + tc);
        }
    }

    /** toChannelsLast puts x[i][ci][p] at d[i][p][ci], every float once; fromChannelsLast undoes it bit for bit. */
    @Test
    void layoutChangesAreTransposes() {
        Assumptions.assumeTrue(GridGemm.VL == 16, "runs on 16-float vectors only");
        for (int[] s : new int[][] {{2, 32, 5, 7}, {3, 16, 4, 8}, {1, 48, 1, 1}}) {
            int n = s[0], c = s[1], hw = s[2] * s[3];
            ConvGeometry g = ConvGeometry.of(n, c, s[2], s[3], c, 3, 3, 1, 1, 1, 1, 1);
            try (Scope scope = Scope.open()) {
                float[] xs = new float[n * c * hw];
                for (int i = 0; i < xs.length; i++) xs[i] = i;
                Tensor x = Tensor.of(xs, n, c, s[2], s[3]);
                Tensor d = Tensor.full(DType.F32, Double.NaN, n, s[2], s[3], c);
                ResidualChainChannelsLast.toChannelsLast(g, x.segment(), x.offset(), d.segment(), d.offset());
                float[] ds = d.toFloatArray();
                for (int i = 0; i < n; i++)
                    for (int ci = 0; ci < c; ci++)
                        for (int p = 0; p < hw; p++)
                            assertEquals(xs[(i * c + ci) * hw + p], ds[(i * hw + p) * c + ci], "image " + i + " channel " + ci + " pixel " + p);
                Tensor back = Tensor.full(DType.F32, Double.NaN, n, c, s[2], s[3]);
                ResidualChainChannelsLast.fromChannelsLast(g, d.segment(), d.offset(), back.segment(), back.offset());
                Close.assertBitIdentical(xs, back.toFloatArray(), "round trip " + java.util.Arrays.toString(s));
            }
        }
    }

    /**
     * The backend chains where the blocks one by one would run on WinogradChannelsLast or
     * WinogradConv (16 or 32 channels at any batch, 64 at batch 64, wider under a WeightCache at
     * few tiles), not where they would run on the grid (64 channels at batch 2 without a cache),
     * and there gives the bits of its forwardRelu and forwardAddRelu one block at a time.
     */
    @Test
    void backendChainsWhereTheBitsAgree() {
        Assumptions.assumeTrue(GridGemm.VL == 16 && WinogradConv.enabled(), "runs on 16-float vectors with -Dstablekd.winograd on");
        ConvKernels cpu = CpuBackend.INSTANCE.conv();
        assertTrue(cpu.chainsResidualBlocks(ConvGeometry.of(2, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1)), "16 channels");
        assertTrue(cpu.chainsResidualBlocks(ConvGeometry.of(64, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)), "64 channels at batch 64");
        assertFalse(cpu.chainsResidualBlocks(ConvGeometry.of(2, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)), "64 channels at batch 2, no cache");
        boolean[] cached = new boolean[1];
        new WeightCache().run(() -> cached[0] = cpu.chainsResidualBlocks(ConvGeometry.of(2, 64, 8, 8, 64, 3, 3, 1, 1, 1, 1, 1)));
        assertTrue(cached[0], "64 channels at batch 2 under a WeightCache");
        assertFalse(cpu.chainsResidualBlocks(ConvGeometry.of(2, 16, 32, 32, 32, 3, 3, 1, 1, 1, 1, 1)), "k != c");
        assertFalse(cpu.chainsResidualBlocks(ConvGeometry.of(2, 16, 32, 32, 16, 3, 3, 2, 2, 1, 1, 1)), "stride 2");
        for (Case tc : new Case[] {new Case("16 channels, batch 2", 2, 16, 32, 32, 2), new Case("64 channels, batch 64", 64, 64, 8, 8, 2)}) {
            ConvGeometry g = tc.g();
            try (Scope scope = Scope.open()) {
                Rng rng = new Rng(tc.name().hashCode());
                Tensor x = Tensor.uniform(rng, DType.F32, -1, 1, g.n(), g.c(), g.h(), g.w());
                Tensor[][] wb = weights(tc, rng);
                Tensor cur = x;
                for (int i = 0; i < tc.blocks(); i++) {
                    Tensor t = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w()), y = Tensor.empty(DType.F32, g.n(), g.c(), g.h(), g.w());
                    cpu.forwardRelu(g, cur, wb[0][i], wb[1][i], t);
                    cpu.forwardAddRelu(g, t, wb[2][i], wb[3][i], cur, y);
                    cur = y;
                }
                Tensor chained = Tensor.full(DType.F32, Double.NaN, g.n(), g.c(), g.h(), g.w());
                cpu.residualChain(g, x, wb[0], wb[1], wb[2], wb[3], chained);
                Close.assertBitIdentical(cur.toFloatArray(), chained.toFloatArray(), "backend chain " + tc);
            }
        }
    }
}

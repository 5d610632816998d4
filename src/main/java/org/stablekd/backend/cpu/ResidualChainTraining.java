package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A run of identity residual blocks in training, channels-last from its input to its output
 * (resnet20's and resnet56's 16- and 32-channel stages): for each block,
 * <pre>
 *   c1 = conv3×3(a, w1);  t = relu(bn1(c1));  c2 = conv3×3(t, w2);  a' = relu(bn2(c2) + a)
 * </pre>
 * x turns to channels-last (n, h, w, c) once, and y back once; in between the convolutions run on
 * {@link WinogradChannelsLast} and {@link WinogradWeightGradBands} with row copies instead of
 * their 16×16 transposes, and the BatchNorms on {@link CpuNormChannelsLast}. Op by op, each
 * convolution turns its input, its output, and in the backward dy, x and dx between the layouts:
 * five turns per convolution, about a tenth of resnet20's training step (JFR, 2026-12-06:
 * Transpose16 9.5 % of the workers' samples).
 *
 * <p>Saved per block (ResidualBlockTraining.SAVED, the caller allocates them): 0 a (the block's
 * input; block i's is block i−1's 9), 1 c1, 2 and 3 bn1's mean and 1/σ, 4 its scale and shift (the
 * fused ReLU's), 5 t, 6 c2, 7 and 8 bn2's mean and 1/σ, 9 a' (the add-ReLU's mask) — the same
 * activations the ops save, in the other layout.
 *
 * <p>Backward per block, last first, with d the gradient of a': dz = d where a' > 0 (the add-ReLU);
 * dc2 = bn2's backward; dt, dw2 = conv2's gradients (one fused pass); dc1 = bn1+ReLU's backward;
 * da = dz + conv1's input gradient, dw1 (one fused pass, the shortcut's gradient added in it).
 *
 * <p>Bits: the convolutions' sums and transforms are the op-by-op path's (the same bits); the
 * BatchNorm statistics are summed pixel by pixel instead of plane by plane, so they and what
 * follows differ from the op-by-op path in the last bits (tested against it and against ref).
 * The same for a given shape and thread count (Note [Determinism]).
 */
final class ResidualChainTraining {
    private ResidualChainTraining() {}

    /** Off with -Dstablekd.chainTraining=false: the blocks then run op by op (for timing against it). */
    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty("stablekd.chainTraining", "true"));

    /** Switches chaining on or off and returns the previous setting (tests and benchmarks only). */
    static boolean enable(boolean on) {
        boolean was = enabled;
        enabled = on;
        return was;
    }

    /**
     * True for blocks it runs: 3×3 stride-1 layers of at most 32 channels in and out that
     * WinogradChannelsLast computes (AVX-512: where the op-by-op path runs them on it too). Shape only.
     */
    static boolean supports(ConvGeometry g) {
        return enabled && ResidualChainChannelsLast.supports(g) && g.c() <= WinogradChannelsLast.NARROW;
    }

    /** The forward (see the class comment); x and y (n, c, h, w). */
    static void forward(ConvGeometry g, Tensor x, ResidualBlockTraining[] blocks, double eps, Tensor[] saved, Tensor y) {
        Tensor a = saved[0];
        ResidualChainChannelsLast.toChannelsLast(g, x.segment(), x.offset(), a.segment(), a.offset());
        for (int i = 0; i < blocks.length; i++) {
            ResidualBlockTraining b = blocks[i];
            int s = i * ResidualBlockTraining.SAVED;
            Tensor in = saved[s], c1 = saved[s + 1], t = saved[s + 5], c2 = saved[s + 6], out = saved[s + 9];
            convolve(g, in, b.w1(), c1);
            CpuNormChannelsLast.train(c1, b.gamma1(), b.beta1(), b.runMean1(), b.runVar1(), b.momentum1(), eps, t,
                    saved[s + 2], saved[s + 3], saved[s + 4], null);
            convolve(g, t, b.w2(), c2);
            CpuNormChannelsLast.train(c2, b.gamma2(), b.beta2(), b.runMean2(), b.runVar2(), b.momentum2(), eps, out,
                    saved[s + 7], saved[s + 8], null, in);
        }
        Tensor last = saved[(blocks.length - 1) * ResidualBlockTraining.SAVED + 9];
        ResidualChainChannelsLast.fromChannelsLast(g, last.segment(), last.offset(), y.segment(), y.offset());
    }

    private static void convolve(ConvGeometry g, Tensor x, Tensor w, Tensor y) {
        WinogradChannelsLast.forwardChannelsLast(g, x.segment(), x.offset(), w.segment(), w.offset(), null, 0, null, 0,
                y.segment(), y.offset(), false);
    }

    /** The backward (see the class comment); dy and dx (n, c, h, w), dx null where not wanted. */
    static void backward(ConvGeometry g, Tensor dy, ResidualBlockTraining[] blocks, Tensor[] saved, Tensor dx, Tensor[] grads) {
        Shape nhwc = Shape.of(g.n(), g.h(), g.w(), g.c());
        // d: the gradient of the current block's output, then (overwritten) of its input
        Tensor d = Tensor.empty(DType.F32, nhwc), dz = Tensor.empty(DType.F32, nhwc);
        Tensor dc = Tensor.empty(DType.F32, nhwc), dt = Tensor.empty(DType.F32, nhwc);
        try {
            ResidualChainChannelsLast.toChannelsLast(g, dy.segment(), dy.offset(), d.segment(), d.offset());
            for (int i = blocks.length - 1; i >= 0; i--) {
                ResidualBlockTraining b = blocks[i];
                int s = i * ResidualBlockTraining.SAVED, q = i * ResidualBlockTraining.GRADS;
                Tensor in = saved[s], c1 = saved[s + 1], t = saved[s + 5], c2 = saved[s + 6], out = saved[s + 9];
                maskWherePositive(out, d, dz);
                CpuNormChannelsLast.backward(c2, null, dz, b.gamma2(), saved[s + 7], saved[s + 8], dc, grads[q + 4], grads[q + 5]);
                convolutionGradients(g, t, dc, b.w2(), null, dt, grads[q + 3]);
                CpuNormChannelsLast.backward(c1, saved[s + 4], dt, b.gamma1(), saved[s + 2], saved[s + 3], dc, grads[q + 1], grads[q + 2]);
                // d = dz + conv1's input gradient (d itself is no longer read); block 0's only where dx is wanted
                convolutionGradients(g, in, dc, b.w1(), dz, i == 0 && dx == null ? null : d, grads[q]);
            }
            if (dx != null) ResidualChainChannelsLast.fromChannelsLast(g, d.segment(), d.offset(), dx.segment(), dx.offset());
        } finally {
            d.storage().release();
            dz.storage().release();
            dc.storage().release();
            dt.storage().release();
        }
    }

    /**
     * dw, and dx (= dxPlus + the input gradient where dxPlus != null) unless dx is null, of a layer
     * with input x and output gradient dy, all channels-last: one pass for both where
     * WinogradWeightGradBands fuses them (a group of images per thread), else one call each; the
     * same bits either way.
     */
    private static void convolutionGradients(ConvGeometry g, Tensor x, Tensor dy, Tensor w, Tensor dxPlus, Tensor dx, Tensor dw) {
        MemorySegment ps = dxPlus == null ? null : dxPlus.segment();
        long po = dxPlus == null ? 0 : dxPlus.offset();
        if (dx != null && WinogradWeightGradBands.fusesInputGradient(g)) {
            WinogradWeightGradBands.backwardChannelsLast(g, x.segment(), x.offset(), dy.segment(), dy.offset(), w.segment(), w.offset(),
                    ps, po, dx.segment(), dx.offset(), dw.segment(), dw.offset());
            return;
        }
        WinogradWeightGradBands.backwardWeightChannelsLast(g, x.segment(), x.offset(), dy.segment(), dy.offset(), dw.segment(), dw.offset());
        if (dx != null) {
            WinogradChannelsLast.backwardInputChannelsLast(g, dy.segment(), dy.offset(), w.segment(), w.offset(), ps, po,
                    dx.segment(), dx.offset());
        }
    }

    /** dz = d where out > 0, else 0 (the add-ReLU's backward, CpuPointwise's arithmetic); all (n, h, w, c). */
    private static void maskWherePositive(Tensor out, Tensor d, Tensor dz) {
        MemorySegment os = out.segment(), ds = d.segment(), zs = dz.segment();
        long oo = out.offset(), dof = d.offset(), zo = dz.offset();
        Simd.forSpans(out.numel(), (from, len) -> CpuPointwise.reluBackward(os, oo + from, ds, dof + from, zs, zo + from, len));
    }
}

package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A run of identity residual blocks at inference, channels-last in between (resnet20's and
 * resnet56's blocks after their BatchNorms are folded): for each block i,
 * <pre>
 *   t = max(0, conv3×3(x, w1[i]) + b1[i]);   x = max(conv3×3(t, w2[i]) + b2[i] + x, 0)
 * </pre>
 * x goes to channels-last (n, h, w, c) once, every convolution runs on {@link WinogradChannelsLast}
 * with row copies in and out instead of its 16×16 transposes and staging copies, and the result
 * comes back to NCHW once. Those transposes and copies were about a quarter of a 16-channel
 * layer's time (JFR, 2026-12-06: transposes 19 %, staging copies 9 %).
 *
 * <p>Bits: the same sums, transforms and epilogues as the blocks run op by op (conv2dRelu, then
 * conv2dAddRelu), so the same floats; the layout changes only where they are stored (tested).
 * Scratch: three channels-last tensors the size of x, from the caching host allocator, released
 * before it returns.
 */
final class ResidualChainChannelsLast {
    private static final int PLANES = 58, PIXELS = 59;   // ConvScratch slots of the layout changes
    private static final int VL = 16;

    private ResidualChainChannelsLast() {}

    /** True for blocks it runs: 3×3 stride-1 layers WinogradChannelsLast computes, as many channels out as in. */
    static boolean supports(ConvGeometry g) {
        return WinogradConv.enabled() && WinogradChannelsLast.computes(g) && g.c() == g.k();
    }

    /** y (NCHW) = the blocks applied to x (NCHW) in order; g is every layer's geometry; biases present. */
    static void run(ConvGeometry g, Tensor x, Tensor[] w1, Tensor[] b1, Tensor[] w2, Tensor[] b2, Tensor y) {
        Shape nhwc = Shape.of(g.n(), g.h(), g.w(), g.c());
        Tensor a = Tensor.empty(DType.F32, nhwc), t = Tensor.empty(DType.F32, nhwc), b = Tensor.empty(DType.F32, nhwc);
        try {
            toChannelsLast(g, x.segment(), x.offset(), a.segment(), a.offset());
            for (int i = 0; i < w1.length; i++) {
                WinogradChannelsLast.forwardChannelsLast(g, a.segment(), 0, w1[i].segment(), w1[i].offset(), b1[i].segment(), b1[i].offset(),
                        null, 0, t.segment(), 0, true);
                WinogradChannelsLast.forwardChannelsLast(g, t.segment(), 0, w2[i].segment(), w2[i].offset(), b2[i].segment(), b2[i].offset(),
                        a.segment(), 0, b.segment(), 0, false);
                Tensor next = b;   // the block's output is the next block's input; its input's memory takes the next output
                b = a;
                a = next;
            }
            fromChannelsLast(g, a.segment(), a.offset(), y.segment(), y.offset());
        } finally {
            a.storage().release();
            t.storage().release();
            b.storage().release();
        }
    }

    /** d (n, h, w, c) = x (n, c, h, w), image by image: planes copied in, turned 16×16 at a time, copied out. */
    static void toChannelsLast(ConvGeometry g, MemorySegment x, long xOff, MemorySegment d, long dOff) {
        relayout(g, x, xOff, d, dOff, true);
    }

    /** y (n, c, h, w) = s (n, h, w, c): toChannelsLast turned around. */
    static void fromChannelsLast(ConvGeometry g, MemorySegment s, long sOff, MemorySegment y, long yOff) {
        relayout(g, s, sOff, y, yOff, false);
    }

    /** Per image, planes (c, hw) to pixels (hw, c) if toPixels, else back: 16×16 transposes, the pixels past the last 16 one by one. */
    private static void relayout(ConvGeometry g, MemorySegment src, long srcOff, MemorySegment dst, long dstOff, boolean toPixels) {
        int c = g.c(), hw = g.h() * g.w();
        Parallel.forRange(g.n(), 1, (i0, i1) -> {
            ConvScratch s = ConvScratch.get();
            float[] planes = s.buffer(PLANES, (long) c * hw), pixels = s.buffer(PIXELS, (long) c * hw);
            float[] in = toPixels ? planes : pixels, out = toPixels ? pixels : planes;
            for (int img = i0; img < i1; img++) {
                long at = (long) img * c * hw;
                MemorySegment.copy(src, ValueLayout.JAVA_FLOAT, (srcOff + at) * Float.BYTES, in, 0, c * hw);
                int vecEnd = hw - hw % VL;
                for (int p0 = 0; p0 < vecEnd; p0 += VL)
                    for (int cv = 0; cv < c; cv += VL) {
                        if (toPixels) Transpose16.arrays(planes, cv * hw + p0, hw, pixels, p0 * c + cv, c);
                        else Transpose16.arrays(pixels, p0 * c + cv, c, planes, cv * hw + p0, hw);
                    }
                for (int p = vecEnd; p < hw; p++)
                    for (int ci = 0; ci < c; ci++) {
                        if (toPixels) pixels[p * c + ci] = planes[ci * hw + p];
                        else planes[ci * hw + p] = pixels[p * c + ci];
                    }
                MemorySegment.copy(out, 0, dst, ValueLayout.JAVA_FLOAT, (dstOff + at) * Float.BYTES, c * hw);
            }
        });
    }
}

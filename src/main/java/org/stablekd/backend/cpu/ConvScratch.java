package org.stablekd.backend.cpu;

/**
 * Per-thread heap scratch for the convolution kernels: a few numbered float buffers, grown on
 * demand and then reused, so a training step in the steady state allocates nothing here.
 * Contents are undefined on return; every kernel initializes what it reads.
 */
final class ConvScratch {
    private static final ThreadLocal<ConvScratch> LOCAL = ThreadLocal.withInitial(ConvScratch::new);
    private final float[][] slots = new float[81][0];
    /** Gather indices for one vector. */
    final int[] index = new int[Sgemm.VL];
    private final int[][] ints = new int[7][0];

    private ConvScratch() {}

    static ConvScratch get() {
        return LOCAL.get();
    }

    /** Buffer number {@code slot} (0..80: CpuConv 0..5, GridConv 6..15, PointwiseConvSmall 16..18, WinogradConv and WinogradFewTiles 19..27, WinogradWeightGrad 28..34, InvertedResidualBlock 35..40, WinogradChannelsLast 41..50, WinogradWeightGradBands 51..57, ResidualChainChannelsLast 58..59, DirectChannelsLast 60..64 and 71, WinogradF2ChannelsLast 65..70, DirectChannelsLastGrad 72..80) with at least {@code size} floats. */
    float[] buffer(int slot, long size) {
        if (size > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("conv scratch of " + size + " floats is too large for one heap array; use a smaller batch or image");
        }
        if (slots[slot].length < size) slots[slot] = new float[(int) size];
        return slots[slot];
    }

    /** Int buffer 0 (offset tables) with at least {@code size} entries. */
    int[] ints(int size) {
        return ints(0, size);
    }

    /** Int buffer number {@code slot} (0..1: GridConv, 2..4: WinogradConv, 4: WinogradFewTiles, 5: DirectChannelsLast, 6: DirectChannelsLastGrad) with at least {@code size} entries. */
    int[] ints(int slot, int size) {
        if (ints[slot].length < size) ints[slot] = new int[size];
        return ints[slot];
    }
}

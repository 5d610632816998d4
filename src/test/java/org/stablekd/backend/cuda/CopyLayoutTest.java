package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/** How strided copies are simplified before copy.cu sees them (pure arithmetic, no GPU). */
class CopyLayoutTest {

    @Test
    void contiguousCopiesMergeToOneDenseRun() {
        Tensor t = Tensor.zeros(DType.F32, 2, 3, 4, 5);
        CopyLayout l = CopyLayout.of(t.shape().dims(), t.strides(), t.strides());
        assertTrue(l.dense());
        assertEquals(120, l.numel());
    }

    @Test
    void aChannelNarrowBecomesRowsOfPlanes() {
        // concat into y (2, 7, 3, 4): the slice y[:, 2:5] receives a contiguous (2, 3, 3, 4)
        Tensor y = Tensor.zeros(DType.F32, 2, 7, 3, 4);
        Tensor slice = y.narrowView(1, 2, 3);
        Tensor src = Tensor.zeros(DType.F32, 2, 3, 3, 4);
        CopyLayout l = CopyLayout.of(src.shape().dims(), src.strides(), slice.strides());
        assertArrayEquals(new long[] {2, 36}, l.sizes());
        assertArrayEquals(new long[] {36, 1}, l.srcStrides());
        assertArrayEquals(new long[] {84, 1}, l.dstStrides());
        assertFalse(l.dense());
    }

    @Test
    void broadcastAndPermutedViewsKeepTheirDims() {
        Tensor bias = Tensor.zeros(DType.F32, 5);
        Tensor rows = bias.viewAs(1, 5).expandView(3, 5);
        CopyLayout l = CopyLayout.of(rows.shape().dims(), rows.strides(), new long[] {5, 1});
        assertArrayEquals(new long[] {3, 5}, l.sizes());
        assertArrayEquals(new long[] {0, 1}, l.srcStrides());
        // channel shuffle: (n, g, c/g, hw) permuted to (n, c/g, g, hw)
        Tensor x = Tensor.zeros(DType.F32, 2, 3, 2, 4).permuteView(0, 2, 1, 3);
        CopyLayout s = CopyLayout.of(x.shape().dims(), x.strides(), new long[] {24, 12, 4, 1});
        assertEquals(4, s.rank());
        assertEquals(48, s.numel());
    }

    @Test
    void sizeOneDimsDisappear() {
        CopyLayout l = CopyLayout.of(new int[] {1, 4, 1}, new long[] {99, 2, 77}, new long[] {4, 1, 1});
        assertArrayEquals(new long[] {4}, l.sizes());
        assertArrayEquals(new long[] {2}, l.srcStrides());
        assertEquals(1, CopyLayout.of(new int[] {1, 1}, new long[] {1, 1}, new long[] {1, 1}).numel());
    }

    @Test
    void allocatorSizeClassesHaveBoundedSlack() {
        assertEquals(512, CudaAllocator.sizeClass(1));
        assertEquals(1024, CudaAllocator.sizeClass(513));
        for (long b = 1; b < (1L << 34); b = b * 3 + 1) {
            long c = CudaAllocator.sizeClass(b);
            // 512-byte granules up to 1 MiB, then at most 1/8 more than asked
            assertTrue(c >= b && c - b < Math.max(CudaAllocator.GRANULE, b / 8 + 1), b + " → " + c);
        }
    }
}

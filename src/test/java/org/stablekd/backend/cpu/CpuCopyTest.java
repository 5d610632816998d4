package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.CopyKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/** CpuCopy: every path (bulk, rows, general walk), broadcast and permuted sources, any dtype. */
class CpuCopyTest {
    private final CopyKernels cpu = Backends.cpu().copy();
    private final CopyKernels ref = Backends.ref().copy();

    /** Copies src with both backends into fresh contiguous tensors and compares them bit for bit. */
    private void checkAgainstRef(Tensor src, String what) {
        Tensor got = Tensor.emptyLike(src, src.shape()), want = Tensor.emptyLike(src, src.shape());
        cpu.copy(src, got);
        ref.copy(src, want);
        assertBitsEqual(got, want, what);
    }

    private static void assertBitsEqual(Tensor got, Tensor want, String what) {
        long bytes = want.numel() * want.dtype().bytes;
        byte[] g = got.segment().asSlice(got.offset() * got.dtype().bytes, bytes).toArray(ValueLayout.JAVA_BYTE);
        byte[] w = want.segment().asSlice(want.offset() * want.dtype().bytes, bytes).toArray(ValueLayout.JAVA_BYTE);
        assertArrayEquals(w, g, what);
    }

    @Test
    void contiguousToContiguousForEverySize() {
        for (int n : new int[] {1, 15, 16, 17, 1000, 70_001, 1_000_003}) { // the last one splits over threads
            try (Scope s = Scope.open()) {
                checkAgainstRef(Data.normal(n, 1, n), "contiguous n=" + n);
            }
        }
    }

    @Test
    void narrowedAndConcatViews() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(1, 1, 2, 7, 3, 4);
            checkAgainstRef(x.narrowView(1, 2, 3), "narrow channels");
            checkAgainstRef(x.narrowView(0, 1, 1), "narrow batch");
            checkAgainstRef(x.narrowView(3, 1, 2), "narrow last dim (strided rows)");
            // concat: copy into a channel slice of a bigger output
            Tensor y = Tensor.zeros(DType.F32, 2, 10, 3, 4);
            Tensor part = Data.normal(2, 1, 2, 3, 3, 4);
            cpu.copy(part, y.narrowView(1, 4, 3));
            for (int i = 0; i < 2; i++)
                for (int c = 0; c < 10; c++)
                    for (int h = 0; h < 3; h++)
                        for (int w = 0; w < 4; w++) {
                            double expect = c >= 4 && c < 7 ? part.get(i, c - 4, h, w) : 0;
                            assertEquals(expect, y.get(i, c, h, w), "concat slice at " + i + "," + c + "," + h + "," + w);
                        }
        }
    }

    @Test
    void permutedSources() {
        try (Scope s = Scope.open()) {
            Tensor x = Data.normal(3, 1, 2, 6, 5, 7);
            checkAgainstRef(x.permuteView(0, 2, 3, 1), "NCHW -> NHWC");
            checkAgainstRef(x.permuteView(3, 2, 1, 0), "reversed dims");
            checkAgainstRef(x.viewAs(2, 3, 2, 35).permuteView(0, 2, 1, 3), "channel shuffle g=3");
            Tensor big = Data.normal(4, 1, 67, 129);
            checkAgainstRef(big.permuteView(1, 0), "transpose 67x129");
        }
    }

    @Test
    void broadcastSources() {
        try (Scope s = Scope.open()) {
            Tensor bias = Data.normal(5, 1, 1, 9);
            checkAgainstRef(bias.expandView(13, 9), "bias over rows (stride 0 outer)");
            Tensor col = Data.normal(6, 1, 9, 1);
            checkAgainstRef(col.expandView(9, 37), "column over columns (stride 0 inner)");
            Tensor one = Data.normal(7, 1, 1, 1, 1);
            checkAgainstRef(one.expandView(3, 4, 5), "one value everywhere");
            // and into a permuted destination
            Tensor dst = Tensor.zeros(DType.F32, 37, 9);
            cpu.copy(col.expandView(9, 37), dst.permuteView(1, 0));
            for (int i = 0; i < 9; i++)
                for (int j = 0; j < 37; j++) assertEquals(col.get(i, 0), dst.get(j, i), "broadcast into transpose");
        }
    }

    @Test
    void stridedSourceLikeTheOpHarness() {
        try (Scope s = Scope.open()) {
            Tensor big = Data.normal(8, 1, 3, 4, 11);
            Tensor view = big.asStridedView(new int[] {3, 4, 5}, new long[] {44, 11, 2});
            checkAgainstRef(view, "last-dim stride 2");
        }
    }

    @Test
    void anyDtypeMovesRawBits() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(11);
            Tensor ints = Tensor.empty(DType.I32, 4, 6, 5);
            for (long e = 0; e < ints.numel(); e++) ints.setFlat(e, rng.nextInt(1_000_000) - 500_000);
            checkAgainstRef(ints.permuteView(2, 0, 1), "I32 permuted");
            checkAgainstRef(ints, "I32 contiguous");
            Tensor longs = Tensor.randn(rng, DType.F64, 1, 5, 33);
            checkAgainstRef(longs.permuteView(1, 0), "F64 transposed");
            Tensor halves = Tensor.randn(rng, DType.BF16, 1, 6, 17);
            checkAgainstRef(halves.permuteView(1, 0), "BF16 transposed");
            checkAgainstRef(halves.narrowView(1, 3, 9), "BF16 narrowed");
            // NaN payloads survive: a copy is bit movement, not float arithmetic
            Tensor nan = Tensor.zeros(DType.F32, 3, 3);
            nan.segment().setAtIndex(ValueLayout.JAVA_INT, 4, 0x7fc0_1234);
            checkAgainstRef(nan.permuteView(1, 0), "NaN payload");
        }
    }

    @Test
    void scalarsAndEmptyTensors() {
        try (Scope s = Scope.open()) {
            checkAgainstRef(Tensor.scalar(DType.F32, 4.25), "rank 0");
            Tensor empty = Tensor.empty(DType.F32, 3, 0, 2);
            cpu.copy(empty, Tensor.empty(DType.F32, 3, 0, 2));
            checkAgainstRef(Data.normal(12, 1, 1, 1, 1), "all size-1 dims");
        }
    }

    @Test
    void shapeOrDtypeMismatchIsAClearError() {
        try (Scope s = Scope.open()) {
            var e = assertThrows(IllegalArgumentException.class, () -> cpu.copy(Tensor.zeros(DType.F32, 2, 3), Tensor.zeros(DType.F32, 3, 2)));
            assertEquals(true, e.getMessage().contains("(2,3)"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cpu.copy(Tensor.zeros(DType.F32, 4), Tensor.zeros(DType.I32, 4)));
        }
    }

    @Test
    void layoutSimplificationMergesContiguousDims() {
        var l = CpuCopy.Layout.simplify(new int[] {2, 1, 3, 4}, new long[] {12, 99, 4, 1}, new long[] {24, 5, 4, 1});
        assertArrayEquals(new int[] {2, 12}, l.dims());
        assertArrayEquals(new long[] {12, 1}, l.srcStrides());
        assertArrayEquals(new long[] {24, 1}, l.dstStrides());
    }
}

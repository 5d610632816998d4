package org.stablekd.backend.cpu;


import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/** The CPU SGEMM against the ref oracle: every transpose, alpha/beta, tails, degenerate and large-ish sizes. */
class SgemmTest {

    static Stream<Arguments> shapes() {
        int vl = Sgemm.VL, nr = Sgemm.NR, mr = Sgemm.MR;
        int[][] mnk = {
                {1, 1, 1}, {1, 17, 5}, {13, 1, 7}, {3, 5, 1}, {1, 1, 300},
                {1, 100, 1280}, {2, 33, 2 * vl + 5}, {2, 7, vl - 1},     // one or two rows: the dot-product path when b is transposed
                {mr, nr, 4}, {mr + 1, nr + 1, 9}, {mr - 1, nr - 1, 33}, {2 * mr, vl, 16}, {7, vl + 3, 2},
                {64, 100, 64}, {64, 10, 256}, {33, 65, 129}, {100, 37, 3},
                {Sgemm.MC + 5, 2 * nr + 7, Sgemm.KC + 3},      // crosses the MC and KC blocks
                {19, Sgemm.NC + 45, 20},                          // crosses the NC block
                {200, 300, 520},                                  // large-ish, several slices and threads
        };
        List<Arguments> out = new ArrayList<>();
        for (int[] s : mnk)
            for (int t = 0; t < 4; t++) out.add(Arguments.of(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0));
        return out.stream();
    }

    @ParameterizedTest(name = "m={0} n={1} k={2} transA={3} transB={4}")
    @MethodSource("shapes")
    void matchesRef(int m, int n, int k, boolean transA, boolean transB) {
        double[][] alphaBeta = {{1, 0}, {0.5, 1}, {-1.25, 0.75}};
        for (double[] ab : alphaBeta) check(m, n, k, transA, transB, ab[0], ab[1]);
    }

    private static void check(int m, int n, int k, boolean transA, boolean transB, double alpha, double beta) {
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(1000L * m + 31L * n + k);
            Tensor a = transA ? Tensor.uniform(rng, DType.F32, -1, 1, k, m) : Tensor.uniform(rng, DType.F32, -1, 1, m, k);
            Tensor b = transB ? Tensor.uniform(rng, DType.F32, -1, 1, n, k) : Tensor.uniform(rng, DType.F32, -1, 1, k, n);
            Tensor c0 = Tensor.uniform(rng, DType.F32, -1, 1, m, n);
            Tensor expected = copy(c0), actual = copy(c0);
            Backends.ref().gemm().matmul(transA, transB, alpha, a, b, beta, expected);
            CpuBackend.INSTANCE.gemm().matmul(transA, transB, alpha, a, b, beta, actual);
            Close.assertClose(actual, expected, Tolerance.F32_VS_REF,
                    String.format("sgemm m=%d n=%d k=%d transA=%b transB=%b alpha=%s beta=%s", m, n, k, transA, transB, alpha, beta));
        }
    }

    @Test
    void betaZeroIgnoresNaN() {
        try (Scope scope = Scope.open()) {
            Rng rng = new Rng(7);
            for (int[] s : new int[][] {{5, 7, 3}, {16, 64, 8}}) {
                Tensor a = Tensor.uniform(rng, DType.F32, -1, 1, s[0], s[2]);
                Tensor b = Tensor.uniform(rng, DType.F32, -1, 1, s[2], s[1]);
                Tensor expected = Tensor.zeros(DType.F32, s[0], s[1]);
                Backends.ref().gemm().matmul(false, false, 1, a, b, 0, expected);
                Tensor actual = Tensor.full(DType.F32, Double.NaN, s[0], s[1]);
                CpuBackend.INSTANCE.gemm().matmul(false, false, 1, a, b, 0, actual);
                Close.assertClose(actual, expected, Tolerance.F32_VS_REF, "beta=0 over NaN " + s[0] + "x" + s[1]);
            }
        }
    }

    @Test
    void kZeroScalesC() {
        try (Scope scope = Scope.open()) {
            Tensor a = Tensor.zeros(DType.F32, 3, 0), b = Tensor.zeros(DType.F32, 0, 4);
            Tensor c = Tensor.full(DType.F32, 2, 3, 4);
            CpuBackend.INSTANCE.gemm().matmul(false, false, 1, a, b, 0.5, c);
            Close.assertClose(c, Tensor.full(DType.F32, 1, 3, 4), Tolerance.EXACT, "k=0, beta=0.5");
            Tensor nan = Tensor.full(DType.F32, Double.NaN, 3, 4);
            CpuBackend.INSTANCE.gemm().matmul(false, false, 1, a, b, 0, nan);
            Close.assertClose(nan, Tensor.zeros(DType.F32, 3, 4), Tolerance.EXACT, "k=0, beta=0 over NaN");
        }
    }

    /** Sub-matrices through leading dimensions and offsets (what conv groups use), on heap segments. */
    @Test
    void leadingDimensionsAndOffsets() {
        Rng rng = new Rng(3);
        int m = 11, n = 37, k = 21, lda = 30, ldb = 50, ldc = 45, aOff = 5, bOff = 7, cOff = 3;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            float[] a = random(rng, aOff + (ta ? k : m) * lda);
            float[] b = random(rng, bOff + (tb ? n : k) * ldb);
            float[] c = random(rng, cOff + m * ldc);
            float[] expected = c.clone();
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++)
                        acc += (double) (ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p]) * (tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
                    expected[cOff + i * ldc + j] = (float) (0.5 * acc + 2 * c[cOff + i * ldc + j]);
                }
            Sgemm.gemm(ta, tb, m, n, k, 0.5f, MemorySegment.ofArray(a), aOff, lda, MemorySegment.ofArray(b), bOff, ldb,
                    2f, MemorySegment.ofArray(c), cOff, ldc);
            Close.assertClose(c, expected, Tolerance.F32_VS_REF, "leading dims transA=" + ta + " transB=" + tb);
        }
    }

    /** Same inputs, same bits: the split over threads never changes a result. */
    @Test
    void deterministicAndSerialEqualsParallel() {
        Rng rng = new Rng(11);
        int m = 150, n = 230, k = 600;
        float[] a = random(rng, m * k), b = random(rng, k * n);
        float[] c1 = new float[m * n], c2 = new float[m * n], c3 = new float[m * n];
        Sgemm.gemm(false, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, k, MemorySegment.ofArray(b), 0, n, 0f, MemorySegment.ofArray(c1), 0, n);
        Sgemm.gemm(false, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, k, MemorySegment.ofArray(b), 0, n, 0f, MemorySegment.ofArray(c2), 0, n);
        Sgemm.gemmSerial(false, false, m, n, k, 1f, MemorySegment.ofArray(a), 0, k, MemorySegment.ofArray(b), 0, n, 0f, MemorySegment.ofArray(c3), 0, n);
        Close.assertBitIdentical(c1, c2);
        Close.assertBitIdentical(c1, c3);
    }

    static float[] random(Rng rng, int size) {
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape().dims());
    }
}

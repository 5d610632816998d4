package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Rng;

/**
 * CudaGemm's row-major → column-major mapping, for all four transpose cases, without a GPU: the
 * arguments it hands cublasSgemm are run through a column-major sgemm written from cuBLAS's
 * definition (op, leading dimensions, bounds checks as cuBLAS documents them) over the row-major
 * bytes, and the result must be the row-major product.
 */
class CudaGemmTest {
    /** cuBLAS's sgemm on column-major arrays: C = alpha·op(A)·op(B) + beta·C, op(A) m×k, op(B) k×n. */
    static void sgemmColumnMajor(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int lda,
                                 float[] b, int ldb, float beta, float[] c, int ldc) {
        // cuBLAS's argument checks (CUBLAS_STATUS_INVALID_VALUE otherwise)
        assertTrue(lda >= Math.max(1, transA ? k : m), "lda " + lda);
        assertTrue(ldb >= Math.max(1, transB ? n : k), "ldb " + ldb);
        assertTrue(ldc >= Math.max(1, m), "ldc " + ldc);
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double acc = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[p + i * lda] : a[i + p * lda];
                    float bv = transB ? b[j + p * ldb] : b[p + j * ldb];
                    acc += (double) av * bv;
                }
                c[i + j * ldc] = (float) (alpha * acc + beta * c[i + j * ldc]);
            }
        }
    }

    @Test
    void everyTransposeCaseGivesTheRowMajorProduct() {
        int m = 5, n = 3, k = 4;
        Rng rng = new Rng(7);
        for (boolean transA : new boolean[] {false, true}) {
            for (boolean transB : new boolean[] {false, true}) {
                // row-major storage: A is (m,k) or, transposed, (k,m); B is (k,n) or (n,k)
                float[] a = new float[m * k], b = new float[k * n], c = new float[m * n], c0 = new float[m * n];
                for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
                for (int i = 0; i < b.length; i++) b[i] = (float) rng.nextGaussian();
                for (int i = 0; i < c.length; i++) c0[i] = c[i] = (float) rng.nextGaussian();
                CudaGemm.Call call = CudaGemm.Call.of(transA, transB, m, n, k);
                sgemmColumnMajor(call.transFirst(), call.transSecond(), call.m(), call.n(), call.k(), 2f, b, call.lda(), a, call.ldb(), 0.5f, c, call.ldc());
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double acc = 0;
                        for (int p = 0; p < k; p++) acc += (double) (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                        assertEquals(2 * acc + 0.5 * c0[i * n + j], c[i * n + j], 1e-5, "transA " + transA + ", transB " + transB + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void anEmptyInnerDimensionKeepsLeadingDimensionsValid() {
        CudaGemm.Call call = CudaGemm.Call.of(false, false, 3, 2, 0);
        assertEquals(0, call.k());
        float[] c = {1, 2, 3, 4, 5, 6};
        sgemmColumnMajor(call.transFirst(), call.transSecond(), call.m(), call.n(), call.k(), 1f, new float[0], call.lda(), new float[0], call.ldb(), 0f, c, call.ldc());
        for (float v : c) assertEquals(0f, v);
    }
}

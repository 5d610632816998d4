package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** DKD_LOSS and ATTENTION_MAP against their definitions worked out by hand on tiny inputs, on both host backends. */
class DistillOpsTest {
    static final Tolerance TOL = Tolerance.F32_VS_REF;

    // 2 rows × 3 classes; targets 0 and 2
    static final double[] S = {1, 2, 0, 0.5, -1, 2};
    static final double[] T = {3, 0, 1, 0, 2, 1};
    static final int[] LABELS = {0, 2};

    static List<Backend> backends() {
        return List.of(Backends.ref(), Backends.cpu());
    }

    static double[] softmax(double[] z, int row, int cols, double tau) {
        double[] p = new double[cols];
        double sum = 0;
        for (int j = 0; j < cols; j++) sum += p[j] = Math.exp(z[row * cols + j] / tau);
        for (int j = 0; j < cols; j++) p[j] /= sum;
        return p;
    }

    /** α·TCKD + β·NCKD straight from the definition: binary [target, rest] KL, and KL of the renormalized non-targets. */
    static double dkdByHand(double alpha, double beta, double tau) {
        int rows = 2, cols = 3;
        double total = 0;
        for (int i = 0; i < rows; i++) {
            double[] s = softmax(S, i, cols, tau), t = softmax(T, i, cols, tau);
            int g = LABELS[i];
            double sg = s[g], tg = t[g];
            double tckd = tg * Math.log(tg / sg) + (1 - tg) * Math.log((1 - tg) / (1 - sg));
            double nckd = 0;
            for (int j = 0; j < cols; j++) {
                if (j == g) continue;
                double sHat = s[j] / (1 - sg), tHat = t[j] / (1 - tg);
                nckd += tHat * Math.log(tHat / sHat);
            }
            total += alpha * tckd + beta * nckd;
        }
        return tau * tau * total / rows;
    }

    static Tensor logits(double[] v, DType dtype, int rows) {
        Tensor t = Tensor.empty(dtype, rows, v.length / rows);
        for (int e = 0; e < v.length; e++) t.setFlat(e, v[e]);
        return t;
    }

    @Test
    void dkdLossMatchesItsDefinition() {
        for (Backend b : backends()) {
            DType dtype = b == Backends.ref() ? DType.F64 : DType.F32;
            try (Restore r = Backends.use(b); Scope s = Scope.open()) {
                Tensor labels = Tensor.ofInts(LABELS, 2);
                for (double[] abt : new double[][] {{1, 8, 4}, {1, 0, 1}, {0, 1, 2}, {0.5, 2, 1}}) {
                    double got = Distill.dkdLoss(logits(S, dtype, 2), logits(T, dtype, 2), labels, abt[0], abt[1], abt[2]).item();
                    assertClose(new double[] {got}, new double[] {dkdByHand(abt[0], abt[1], abt[2])}, TOL,
                            b.name() + " dkd alpha " + abt[0] + " beta " + abt[1] + " tau " + abt[2]);
                }
            }
        }
    }

    /** The paper's identity for one row: KD = TCKD + (1 − t_g)·NCKD, against our KD_LOSS. */
    @Test
    void dkdDecomposesKd() {
        Rng rng = new Rng(3);
        for (Backend b : backends()) {
            try (Restore r = Backends.use(b); Scope s = Scope.open()) {
                Tensor st = Tensor.randn(rng, DType.F32, 2.0, 1, 7), te = Tensor.randn(rng, DType.F32, 2.0, 1, 7);
                Tensor labels = Tensor.ofInts(new int[] {4}, 1);
                double tau = 3;
                double tg = softmax(te.toDoubleArray(), 0, 7, tau)[4];
                double dkd = Distill.dkdLoss(st, te, labels, 1, 1 - tg, tau).item();
                double kd = Losses.kdLoss(st, te, tau).item();
                assertClose(new double[] {dkd}, new double[] {kd}, TOL, b.name() + " TCKD + (1-t_g)·NCKD = KD");
            }
        }
    }

    @Test
    void dkdGradientReachesOnlyTheStudent() {
        try (Restore r = Backends.use(Backends.ref()); Scope s = Scope.open()) {
            Tensor st = logits(S, DType.F64, 2).requiresGrad(true), te = logits(T, DType.F64, 2);
            Autograd.backward(Distill.dkdLoss(st, te, Tensor.ofInts(LABELS, 2), 1, 8, 4));
            assertEquals(null, te.grad(), "the teacher logits get no gradient");
            double[] g = st.grad().toDoubleArray();
            for (int i = 0; i < 2; i++) assertEquals(0, g[3 * i] + g[3 * i + 1] + g[3 * i + 2], 1e-12, "row " + i + " of dL/dz sums to 0 (softmax shift invariance)");
        }
    }

    @Test
    void dkdRejectsBadInputs() {
        try (Scope s = Scope.open()) {
            Tensor st = logits(S, DType.F32, 2).requiresGrad(true);
            Tensor labels = Tensor.ofInts(LABELS, 2);
            Tensor trainable = logits(T, DType.F32, 2).requiresGrad(true);
            var e = assertThrows(IllegalArgumentException.class, () -> Distill.dkdLoss(st, trainable, labels, 1, 8, 4));
            assertTrue(e.getMessage().startsWith("dkd_loss: the teacher logits (2,3) require a gradient"), e.getMessage());
            assertTrue(e.getMessage().contains("frozen teacher"), e.getMessage());

            Tensor te = logits(T, DType.F32, 2);
            e = assertThrows(IllegalArgumentException.class, () -> Distill.dkdLoss(st, te, Tensor.ofInts(new int[] {0, 3}, 2), 1, 8, 4));
            assertTrue(e.getMessage().contains("label 3 at row 1"), e.getMessage());
            Tensor one = Tensor.zeros(DType.F32, 2, 1);
            e = assertThrows(IllegalArgumentException.class, () -> Distill.dkdLoss(one, one, Tensor.ofInts(new int[] {0, 0}, 2), 1, 8, 4));
            assertTrue(e.getMessage().contains("at least 2 classes"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Distill.dkdLoss(st, te, labels, 1, 8, 0));
            assertTrue(e.getMessage().contains("temperature"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Distill.dkdLoss(st, Tensor.zeros(DType.F32, 2, 4), labels, 1, 8, 4));
            assertTrue(e.getMessage().contains("student logits (2,3) and teacher logits (2,4) differ"), e.getMessage());
        }
    }

    /** f (2,2,1,2): sample 0 channels [1,2] and [3,4] → q = [(1+9)/2, (4+16)/2] = [5, 10], a = q/√125; sample 1 zero → a = 0. */
    @Test
    void attentionMapByHand() {
        for (Backend b : backends()) {
            try (Restore r = Backends.use(b); Scope s = Scope.open()) {
                Tensor f = Tensor.of(new float[] {1, 2, 3, 4, 0, 0, 0, 0}, 2, 2, 1, 2).requiresGrad(true);
                Tensor a = Distill.attentionMap(f);
                assertEquals(List.of(2, 2), List.of(a.dim(0), a.dim(1)));
                double n = Math.sqrt(125);
                assertClose(a.toDoubleArray(), new double[] {5 / n, 10 / n, 0, 0}, TOL, b.name() + " attention map");
                // d a_1/d f: only position 1 of sample 0 is weighted: dq = (e_1 − a·a_1)/‖q‖, df = 2·f·dq/C
                Tensor w = Tensor.of(new float[] {0, 1, 0, 0}, 2, 2);
                Autograd.backward(Reduce.sum(Pointwise.mul(a, w)));
                double[] dq = {(0 - 5 / n * 10 / n) / n, (1 - 10 / n * 10 / n) / n};
                double[] expected = {dq[0] * 1, dq[1] * 2, dq[0] * 3, dq[1] * 4, 0, 0, 0, 0}; // 2·f·dq/2
                assertClose(f.grad().toDoubleArray(), expected, TOL, b.name() + " attention map gradient (the zero sample gets 0, no NaN)");
            }
        }
    }
}

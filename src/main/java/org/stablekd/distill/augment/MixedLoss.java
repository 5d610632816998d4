package org.stablekd.distill.augment;

import org.stablekd.ops.Layout;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Tensor;

/**
 * The cross-entropy of a mixed batch against its mixed targets, from existing ops:
 *
 * <pre>
 *   L = (1/B) Σ_i [ λ_i·CE(s_i, a_i) + (1 − λ_i)·CE(s_i, b_i) ]
 * </pre>
 *
 * With one λ for the batch (MixUp, CutMix) this is λ·CE(s, a) + (1 − λ)·CE(s, b), two
 * {@link Losses#crossEntropy} calls as in the CutMix reference code. A per-sample λ would need a
 * weighted cross-entropy op, which the op layer does not have; instead each maximal run of
 * consecutive samples with one λ (CutMixPick returns its samples grouped by pass, so at most one run
 * per pass) is cut out with {@link Layout#narrow} and weighted by its share of the batch — exact,
 * and cheap when runs are few; with B different λ values it costs 2B small cross-entropies.
 */
public final class MixedLoss {
    private MixedLoss() {}

    /** L above, for student logits (B, classes); differentiable in {@code logits}. */
    public static Tensor crossEntropy(Tensor logits, Mixed m) {
        int b = m.size();
        if (logits.rank() != 2 || logits.dim(0) != b) {
            throw new IllegalArgumentException("mixed cross-entropy: logits " + logits.shape() + " for a mixed batch of " + b);
        }
        double[] lambda = m.lambda();
        if (m.uniformLambda()) return weighted(logits, m.labelsA(), m.labelsB(), lambda[0]);
        Tensor total = null;
        for (int start = 0; start < b; ) {
            int end = start + 1;
            while (end < b && lambda[end] == lambda[start]) end++;
            int n = end - start;
            Tensor part = weighted(Layout.narrow(logits, 0, start, n), m.labelsA().narrowView(0, start, n),
                    m.labelsB().narrowView(0, start, n), lambda[start]);
            part = Pointwise.scale(part, (double) n / b);
            total = total == null ? part : Pointwise.add(total, part);
            start = end;
        }
        return total;
    }

    /** λ·CE(s, a) + (1 − λ)·CE(s, b); a single CE where a weight is 0. */
    private static Tensor weighted(Tensor logits, Tensor a, Tensor b, double lambda) {
        if (lambda == 1) return Losses.crossEntropy(logits, a);
        if (lambda == 0) return Losses.crossEntropy(logits, b);
        return Pointwise.add(Pointwise.scale(Losses.crossEntropy(logits, a), lambda),
                Pointwise.scale(Losses.crossEntropy(logits, b), 1 - lambda));
    }
}

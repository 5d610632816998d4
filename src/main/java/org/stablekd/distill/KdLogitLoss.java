package org.stablekd.distill;

import java.util.Map;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Tensor;

/**
 * The logit loss of a KD step, ceWeight·CE(student, labels) + kdWeight·KD(student, teacher, τ),
 * put into a step's named losses. Where the backend fuses KD_CE_LOSS (CUDA) it is one op, logged
 * as {@code prefix + "ce+kd"}: both softmaxes, the CE, the KL and the student gradient from one
 * read of each row. Elsewhere the two ops as before, logged as {@code "ce"} and {@code "kd"}, so
 * host results stay bit-identical to every earlier run. Same value and gradient either way.
 */
final class KdLogitLoss {
    static final String FUSED = "ce+kd";

    private KdLogitLoss() {}

    static void put(Map<String, Tensor> losses, String prefix, Tensor student, Tensor teacher, Tensor labels,
                    double tau, double ceWeight, double kdWeight) {
        if (Losses.fusesKdCe(student)) {
            losses.put(prefix + FUSED, Losses.kdCrossEntropy(student, teacher, labels, tau, ceWeight, kdWeight));
        } else {
            losses.put(prefix + "ce", Pointwise.scale(Losses.crossEntropy(student, labels), ceWeight));
            losses.put(prefix + "kd", Pointwise.scale(Losses.kdLoss(student, teacher, tau), kdWeight));
        }
    }
}

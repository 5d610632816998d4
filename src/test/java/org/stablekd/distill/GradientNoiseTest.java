package org.stablekd.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.stablekd.nn.Parameter;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

class GradientNoiseTest {

    /** Writes a gradient into every parameter of one stage (others zero). */
    private static void set(ToyNet m, ParameterSlab slab, int stage, java.util.function.IntToDoubleFunction value) {
        slab.zeroGrad();
        int k = 0;
        for (Parameter p : m.stageParameters(stage)) {
            Tensor g = p.grad();
            for (long i = 0; i < g.numel(); i++) g.setFlat(i, value.applyAsDouble(k++));
        }
    }

    @Test
    void blocksAreTheStudentsStagesAndTheStatisticsMatchTheirDefinitions() {
        ToyNet m = new ToyNet("s", 4, 1);
        ParameterSlab slab = ParameterSlab.pack(m);
        GradientNoise noise = new GradientNoise(m, slab, 4);
        assertEquals(List.of("b1", "b2", "b3", "b4"), noise.blockNames());
        Rng rng = new Rng(2);
        // block 1: a fixed direction d plus small noise → SNR ≈ ‖d‖² / E‖n‖², cosine ≈ 1
        // block 2: +d, −d, +d, −d → mean 0: SNR 0, cosine −1
        double[] d = new double[4000];
        for (int i = 0; i < d.length; i++) d[i] = rng.nextGaussian();
        for (int step = 0; step < 8; step++) {
            slab.zeroGrad();
            double sign = step % 2 == 0 ? 1 : -1;
            int k = 0;
            for (Parameter p : m.stageParameters(0)) {
                for (long i = 0; i < p.grad().numel(); i++, k++) p.grad().setFlat(i, d[k] + 0.1 * rng.nextGaussian());
            }
            k = 0;
            for (Parameter p : m.stageParameters(1)) {
                for (long i = 0; i < p.grad().numel(); i++, k++) p.grad().setFlat(i, sign * d[k]);
            }
            noise.afterBackward();
        }
        Map<String, Object> r = noise.epochMetrics();
        double snr1 = (Double) r.get("iboe_snr_b1"), cos1 = (Double) r.get("iboe_cos_b1");
        // per element noise variance 0.01 over 4 steps: E‖g − mean‖² ≈ (3/4)·0.01·n, ‖mean‖² ≈ n  →  SNR ≈ 133
        assertTrue(snr1 > 60 && snr1 < 300, "steady block SNR " + snr1);
        assertTrue(cos1 > 0.98, "steady block cosine " + cos1);
        assertEquals(0.0, (Double) r.get("iboe_snr_b2"), 1e-9);
        assertEquals(-1.0, (Double) r.get("iboe_cos_b2"), 1e-6);
        assertTrue(!r.containsKey("iboe_snr_b3"), "a block with zero gradients has no defined SNR");
        assertTrue(noise.epochMetrics().isEmpty(), "an epoch's windows are reported once");
    }
}

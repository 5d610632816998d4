package org.stablekd.infer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.stablekd.models.Zoo;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.testing.Close;

/** {@link Predictor#warmUp}: it runs calls, stops by its budget, changes no answer, and refuses a bad batch. */
class PredictorWarmUpTest {
    @Test
    void runsCallsWithinItsBudgetAndChangesNoAnswer() {
        Predictor p = Predictor.of(Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(8)));
        float[] x = new float[2 * 32 * 32];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37);
        float[] before = p.predict(x, 2);
        long t0 = System.nanoTime();
        int calls = p.warmUp(1, Duration.ofMillis(300));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(calls >= 1, "warm-up made " + calls + " calls");
        assertTrue(seconds < 0.3 + 1.0, "a 300 ms budget took " + seconds + " s (one call past the budget at most)");
        Close.assertBitIdentical(before, p.predict(x, 2), "logits after the warm-up");
        assertThrows(IllegalArgumentException.class, () -> p.warmUp(0, Duration.ofMillis(10)));
    }
}

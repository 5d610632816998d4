package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Transfers;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.Accuracy;

/** TOPK_HITS counts what Accuracy.topk counts on the host (ties, NaN rows, bad labels), on every backend and the simulated device. */
class TopkHitsTest {
    /** Rows with ties, a NaN row, an out-of-range label and coarse values (many ties) besides random ones. */
    static Tensor[] batch() {
        int rows = 40, classes = 7;
        Rng rng = new Rng(11);
        float[] l = new float[rows * classes];
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < classes; c++) l[i * classes + c] = i % 3 == 0 ? rng.nextInt(3) : (float) rng.nextGaussian();
            y[i] = rng.nextInt(classes);
        }
        l[5 * classes + 2] = Float.NaN;
        y[6] = classes;
        y[7] = -1;
        return new Tensor[] {Tensor.of(l, rows, classes), Tensor.ofInts(y, rows)};
    }

    static float[] expected(Tensor[] b, int k) {
        int[] h = Accuracy.topk(b[0], b[1], k);
        return new float[] {h[0], h[1]};
    }

    @Test
    void countsAsAccuracyDoesOnEveryBackendAndOnTheDevice() {
        Tensor[] b = batch();
        for (int k : new int[] {1, 3, 7}) {
            float[] want = expected(b, k);
            assertTrue(want[0] > 0 && want[1] > want[0] || k == 1, "the batch has hits");
            for (var backend : new org.stablekd.backend.Backend[] {Backends.cpu(), Backends.ref()}) {
                try (Restore r = Backends.use(backend)) {
                    assertArrayEquals(want, Reduce.topkHits(b[0], b[1], k).toFloatArray(), backend.name() + " k=" + k);
                }
            }
            Tensor hits = Reduce.topkHits(Transfers.to(b[0], Device.SIM), Transfers.to(b[1], Device.SIM), k);
            assertEquals(Device.SIM, hits.device());
            assertArrayEquals(want, Transfers.toHost(hits).toFloatArray(), "sim k=" + k);
        }
    }

    @Test
    void badInputsSaySo() {
        Tensor[] b = batch();
        var k = assertThrows(IllegalArgumentException.class, () -> Reduce.topkHits(b[0], b[1], 0));
        assertTrue(k.getMessage().contains("k must be at least 1"), k.getMessage());
        var where = assertThrows(IllegalArgumentException.class, () -> Reduce.topkHits(Transfers.to(b[0], Device.SIM), b[1], 1));
        assertTrue(where.getMessage().contains("labels on cpu, logits on sim:0"), where.getMessage());
        var shape = assertThrows(IllegalArgumentException.class, () -> Reduce.topkHits(b[0], Tensor.ofInts(new int[3], 3), 1));
        assertTrue(shape.getMessage().contains("labels must be (40) I32"), shape.getMessage());
    }
}

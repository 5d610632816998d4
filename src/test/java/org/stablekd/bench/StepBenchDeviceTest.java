package org.stablekd.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.sim.SimBackend;
import org.stablekd.backend.sim.SimTransfers;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.train.Supervised;

/** bench --device: the timed steps run on the device and each downloads only its loss; latency calls copy their images and logits. */
class StepBenchDeviceTest {
    @Test
    void stepsAndLatencyRunOnTheDevice() {
        Model m = Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(1));
        SimTransfers.Counts before = SimBackend.counts();
        StepBench.Timing t = StepBench.time("ce", new Supervised(m, 0), 0, 4, 1, 3, 1, Device.SIM);
        SimTransfers.Counts d = SimBackend.counts().minus(before);
        assertEquals(Device.SIM, m.device());
        assertTrue(t.imagesPerSecond() > 0);
        assertEquals(4, d.downloads(), "one loss per step (1 warm-up + 3 timed): " + d);
        Model p = Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(2));
        SimTransfers.Counts beforeCalls = SimBackend.counts();
        StepBench.Latency l = StepBench.latency(p, 1, 1, 2, 4, Device.SIM);
        assertTrue(l.p50Ms() > 0);
        assertEquals(3, SimBackend.counts().minus(beforeCalls).downloads(), "one logits download per call");
    }

    /**
     * Without warmupSeconds, exactly the warm-up steps asked for; with it, warm-up steps go on past
     * the count until the time is up (at most 200 more). The first run also warms the JIT, so the
     * second one's steps are short next to its half second.
     */
    @Test
    void warmUpLastsAtLeastTheTimeGiven() {
        Model m = Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(3));
        SimTransfers.Counts before = SimBackend.counts();
        StepBench.time("ce", new Supervised(m, 0), 0, 4, 1, 0, 2, 1, org.stablekd.dist.Local.INSTANCE,
                org.stablekd.dist.DataParallel.Settings.DEFAULT, Device.SIM);
        assertEquals(3, SimBackend.counts().minus(before).downloads(), "no minimum time: 1 warm-up + 2 timed");
        SimTransfers.Counts again = SimBackend.counts();
        long t0 = System.nanoTime();
        // 1.5 s: a warm step takes tens of ms, but under the full suite's load one once took over 0.5 s,
        // which left no time for a second warm-up step and failed the count below
        StepBench.time("ce", new Supervised(m, 0), 0, 4, 1, 1.5, 2, 1, org.stablekd.dist.Local.INSTANCE,
                org.stablekd.dist.DataParallel.Settings.DEFAULT, Device.SIM);
        double seconds = (System.nanoTime() - t0) / 1e9;
        long steps = SimBackend.counts().minus(again).downloads();
        // at least 1.5 s, unless the 200 extra warm-up steps ran out first (a fast host: 1.49 s once)
        assertTrue(seconds >= 1.5 || steps == 1 + 200 + 2, "the warm-up took at least 1.5 s or 200 extra steps: " + seconds + " s, " + steps + " steps");
        assertTrue(steps > 3 && steps <= 1 + 200 + 2, "more warm-up steps than the 1 asked for, at most 200 more: " + steps);
    }
}

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
}

package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Transfers;
import org.stablekd.backend.sim.SimBackend;
import org.stablekd.backend.sim.SimTransfers;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;

/**
 * T. stddev of device logits: batches add to sums on the device (no copy per batch), the values
 * come back only when read, and they equal the host's double-precision path to float rounding.
 */
class TeacherStddevOnDeviceTest {
    @Test
    void deviceLogitsGiveTheHostValuesAndCopyOnlyWhenRead() {
        TeacherStddev host = new TeacherStddev(3), dev = new TeacherStddev(3);
        Rng rng = new Rng(7);
        SimTransfers.Counts before = null;
        for (int i = 0; i < 10; i++) {   // 3 complete groups and one open batch
            Tensor z = Tensor.randn(rng, DType.F32, 2.0, 16, 10);
            host.add(z);
            Tensor onDevice = Transfers.to(z, Device.SIM);
            if (before == null) before = SimBackend.counts();
            dev.add(onDevice);
        }
        SimTransfers.Counts adding = SimBackend.counts().minus(before);
        assertEquals(0, adding.downloads(), "adding batches copies nothing back: " + adding);
        assertEquals(host.groups(), dev.groups());
        SimTransfers.Counts beforeRead = SimBackend.counts();
        double value = dev.value();
        assertEquals(4, SimBackend.counts().minus(beforeRead).downloads(), "reading: one download per group and one for the entropy");
        Close.assertClose(new double[] {value, dev.meanEntropy()}, new double[] {host.value(), host.meanEntropy()},
                new Tolerance(1e-5, 1e-5), "T. stddev, entropy");
        Close.assertClose(dev.perClassStddev(), host.perClassStddev(), new Tolerance(1e-5, 1e-5), "per class");
        assertTrue(value > 0);
        dev.reset();
        assertEquals(0, dev.groups());
        assertTrue(Double.isNaN(dev.value()));
    }
}

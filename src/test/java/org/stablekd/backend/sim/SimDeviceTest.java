package org.stablekd.backend.sim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Transfers;
import org.stablekd.models.Zoo;
import org.stablekd.infer.Predictor;
import org.stablekd.nn.Model;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/** The simulated device itself: its memory is closed to host code, transfers are counted, modules and slabs move onto it. */
class SimDeviceTest {
    @Test
    void hostCodeCannotReadDeviceMemoryAndTransfersAreCounted() {
        Tensor host = Tensor.of(new float[] {1, 2, 3}, 3);
        SimTransfers.Counts before = SimBackend.counts();
        Tensor dev = Transfers.to(host, Device.SIM);
        Tensor twice = Pointwise.add(dev, dev);   // kernels read it
        assertEquals(Device.SIM, twice.device());
        var stray = assertThrows(IllegalStateException.class, twice::toFloatArray);
        assertTrue(stray.getMessage().contains("has no host memory to read or write here; copy it to the host first"), stray.getMessage());
        assertThrows(IllegalStateException.class, () -> dev.setFlat(0, 5));
        assertArrayEquals(new float[] {2, 4, 6}, Transfers.toHost(twice).toFloatArray());
        SimTransfers.Counts d = SimBackend.counts().minus(before);
        assertEquals(new SimTransfers.Counts(1, 12, 0, 1, 12), d);
        assertEquals(host, Transfers.toHost(host), "a host tensor stays itself");
    }

    @Test
    void scopesFreeDeviceStorageAndSayWhenItIsUsedAfter() {
        Tensor kept;
        try (Scope s = Scope.open()) {
            kept = Transfers.to(Tensor.of(new float[] {1}, 1), Device.SIM);
        }
        var e = assertThrows(IllegalStateException.class, () -> Transfers.toHost(kept));
        assertTrue(e.getMessage().contains("was used after its Scope closed"), e.getMessage());
    }

    /** Module.to moves parameters, float buffers and folded weights; the slab and SGD momentum are made on the device. */
    @Test
    void modulesSlabsAndMomentumLiveOnTheDevice() {
        Model m = Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(1));
        m.to(Device.SIM);
        assertEquals(Device.SIM, m.device());
        m.namedBuffers().forEach((name, b) -> assertEquals(name.endsWith("num_batches_tracked") ? Device.CPU : Device.SIM,
                b.value().device(), name));
        ParameterSlab slab = ParameterSlab.pack(m);
        Sgd sgd = new Sgd(slab, 0.9, 5e-4, false);
        assertEquals(Device.SIM, slab.values().device());
        assertEquals(Device.SIM, slab.grads().device());
        assertEquals(Device.SIM, sgd.momentumBuffer().device());
        m.namedParameters().forEach((name, p) -> assertEquals(slab.values().storage(), p.value().storage(), name));
    }

    /** A BN-folded model (a teacher, a Predictor's) gives the same logits on the device as on the host. */
    @Test
    void aFoldedModelGivesTheHostLogitsOnTheDevice() {
        Model a = Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(2)), b = Zoo.create("resnet8", 10, Shape.of(1, 32, 32), new Rng(2));
        Predictor.of(a);   // folds
        b.to(Device.SIM);
        Predictor.of(b);   // folds on the host, then b is back on the device
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(new Rng(3), org.stablekd.tensor.DType.F32, 1, 2, 1, 32, 32);
            float[] host;
            float[] dev;
            try (var ng = org.stablekd.autograd.Autograd.noGrad()) {
                host = a.forward(x).toFloatArray();
                dev = Transfers.toHost(b.forward(Transfers.to(x, Device.SIM))).toFloatArray();
            }
            Close.assertBitIdentical(host, dev, "logits");
            assertEquals(Device.SIM, b.device());
        }
    }
}

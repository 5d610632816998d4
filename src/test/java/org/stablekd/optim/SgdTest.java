package org.stablekd.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.stablekd.testing.Close.assertClose;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

class SgdTest {

    /** Two steps by hand: p=1, grad=0.5, wd=0.1, m=0.9, lr=0.1. */
    @Test
    void matchesPyTorchSemanticsByHand() {
        for (boolean nesterov : new boolean[] {false, true}) {
            for (var backend : new org.stablekd.backend.Backend[] {Backends.ref(), Backends.cpu()}) {
                Tensor p = Tensor.full(DType.F32, 1, 1), g = Tensor.full(DType.F32, 0.5, 1), b = Tensor.zeros(DType.F32, 1);
                backend.optimizer().sgd(p, g, b, 0.1, 0.9, 0.1, nesterov);
                // d = 0.5 + 0.1 = 0.6; buf = 0.6; step = nesterov ? 0.6 + 0.54 : 0.6
                double p1 = 1 - 0.1 * (nesterov ? 1.14 : 0.6);
                assertEquals(p1, p.getFlat(0), 1e-6, backend.name() + " step 1");
                backend.optimizer().sgd(p, g, b, 0.1, 0.9, 0.1, nesterov);
                double d2 = 0.5 + 0.1 * p1, buf2 = 0.9 * 0.6 + d2;
                assertEquals(buf2, b.getFlat(0), 1e-6);
                assertEquals(p1 - 0.1 * (nesterov ? d2 + 0.9 * buf2 : buf2), p.getFlat(0), 1e-6, backend.name() + " step 2");
            }
        }
    }

    @Test
    void cpuMatchesRefOnASlabWithATail() {
        Rng rng = new Rng(9);
        int n = 1000 * 16 + 13;
        Tensor p0 = Tensor.randn(rng, DType.F32, 1, n), g = Tensor.randn(rng, DType.F32, 1, n), b0 = Tensor.randn(rng, DType.F32, 1, n);
        Tensor pr = copy(p0), br = copy(b0), pc = copy(p0), bc = copy(b0);
        Backends.ref().optimizer().sgd(pr, g, br, 0.05, 0.9, 5e-4, true);
        try (Restore r = Backends.use(Backends.cpu())) {
            Backends.cpu().optimizer().sgd(pc, g, bc, 0.05, 0.9, 5e-4, true);
        }
        assertClose(pc, pr, Tolerance.F32_VS_REF, "params");
        assertClose(bc, br, Tolerance.F32_VS_REF, "momentum");
    }

    /** A frozen parameter and its momentum stay bit-identical; the rest get exactly what one launch over the whole slab gives. */
    @Test
    void frozenParametersGetNoUpdateAndTheOthersTheSameAsWithout() {
        float[][] whole = null;
        for (boolean freeze : new boolean[] {false, true}) {
            Rng rng = new Rng(4);
            org.stablekd.nn.Linear a = new org.stablekd.nn.Linear(5, 3, true).pytorchDefault(rng), b = new org.stablekd.nn.Linear(3, 7, true).pytorchDefault(rng),
                    c = new org.stablekd.nn.Linear(7, 2, true).pytorchDefault(rng);
            var parts = new java.util.LinkedHashMap<String, org.stablekd.nn.Module>();
            parts.put("a", a);
            parts.put("b", b);
            parts.put("c", c);
            var slab = org.stablekd.nn.ParameterSlab.pack(new org.stablekd.nn.ModuleGroup(parts));
            Sgd sgd = new Sgd(slab, 0.9, 5e-4, false);
            org.stablekd.ops.Memory.copy(Tensor.randn(new Rng(5), DType.F32, 1, (int) slab.grads().numel()), slab.grads());
            sgd.step(0.1);   // momentum everywhere, then b leaves the optimizer
            float[] bBefore = b.weight().value().toFloatArray(), momentumBefore = sgd.momentumBuffer().toFloatArray();
            if (freeze) sgd.freeze(java.util.Set.copyOf(b.namedParameters().values()));
            for (int i = 0; i < 3; i++) sgd.step(0.1);
            if (!freeze) {
                whole = new float[][] {a.weight().value().toFloatArray(), c.bias().value().toFloatArray()};
                continue;
            }
            org.stablekd.testing.Close.assertBitIdentical(bBefore, b.weight().value().toFloatArray(), "frozen weight");
            var entry = slab.entries().stream().filter(e -> e.parameter() == b.weight()).findFirst().orElseThrow();
            float[] m = sgd.momentumBuffer().toFloatArray();
            for (int i = 0; i < entry.numel(); i++) assertEquals(momentumBefore[(int) entry.offset() + i], m[(int) entry.offset() + i], 0.0, "frozen momentum");
            org.stablekd.testing.Close.assertBitIdentical(whole[0], a.weight().value().toFloatArray(), "a before the frozen run");
            org.stablekd.testing.Close.assertBitIdentical(whole[1], c.bias().value().toFloatArray(), "c after it");
            sgd.resetMomentum();
            for (float v : sgd.momentumBuffer().toFloatArray()) assertEquals(0f, v, "reset momentum");
        }
    }

    @Test
    void schedules() {
        LrSchedule ms = new LrSchedule.MultiStep(0.05, 0.1, 150, 180, 210);
        assertEquals(0.05, ms.at(149, 0.9), 1e-12);
        assertEquals(0.005, ms.at(150, 0), 1e-12);
        assertEquals(0.00005, ms.at(239, 0), 1e-12);
        LrSchedule cos = new LrSchedule.Cosine(0.1, 0, 10);
        assertEquals(0.1, cos.at(0, 0), 1e-12);
        assertEquals(0.05, cos.at(5, 0), 1e-12);
        LrSchedule w = new LrSchedule.Warmup(new LrSchedule.Constant(0.1), 2);
        assertEquals(0.025, w.at(0, 0.5), 1e-6);
        assertEquals(0.1, w.at(2, 0), 1e-12);
    }

    private static Tensor copy(Tensor t) {
        return Tensor.of(t.toFloatArray(), t.shape().dims());
    }
}

package org.stablekd.ops;

import static org.stablekd.testing.Close.assertClose;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/**
 * Generated: for every registry case, the analytic gradient (ref backend, F64) of Σ(out ∘ R)
 * against central finite differences, for every differentiable input (up to {@link #PROBES}
 * sampled elements each).
 */
class GradCheckTest {
    static final int PROBES = 30;

    @TestFactory
    Stream<DynamicTest> analyticVsFiniteDifferences() {
        return OpRegistry.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            try (Restore b = Backends.use(Backends.ref()); Scope scope = Scope.open()) {
                Tensor[] in = c.make(DType.F64, OpHarness.SEED);
                for (int i = 0; i < in.length; i++) if (c.inputs().get(i).differentiable()) in[i].requiresGrad(true);
                Autograd.backward(OpHarness.weightedSum(c.call().apply(in)));
                Rng pick = new Rng(7);
                for (int i = 0; i < in.length; i++) {
                    if (!c.inputs().get(i).differentiable()) continue;
                    Tensor t = in[i];
                    int probes = (int) Math.min(PROBES, t.numel());
                    double[] analytic = new double[probes], numeric = new double[probes];
                    for (int p = 0; p < probes; p++) {
                        long e = t.numel() <= PROBES ? p : pick.nextInt((int) t.numel());
                        double orig = t.getFlat(e);
                        double h = Tolerance.FD_STEP;
                        t.setFlat(e, orig + h);
                        double plus = loss(c, in);
                        t.setFlat(e, orig - h);
                        double minus = loss(c, in);
                        t.setFlat(e, orig);
                        numeric[p] = (plus - minus) / (2 * h);
                        analytic[p] = t.grad().getFlat(e);
                    }
                    assertClose(analytic, numeric, Tolerance.FD_F64, c.name() + " d/d(input " + i + ") vs finite differences");
                }
            }
        }));
    }

    private static double loss(OpRegistry.Case c, Tensor[] in) {
        try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
            return OpHarness.weightedSum(c.call().apply(in)).item();
        }
    }
}

package org.stablekd.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Norm;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;

class ScopeTest {

    @Test
    void closingAScopeFreesItsTensorsAndUseAfterwardsIsAClearError() {
        Tensor kept;
        Tensor dropped;
        try (Scope s = Scope.open()) {
            dropped = Tensor.zeros(DType.F32, 10);
            kept = s.keep(Tensor.full(DType.F32, 3, 4));
            assertEquals(1, s.size());
        }
        assertTrue(dropped.storage().isReleased());
        assertFalse(kept.storage().isReleased());
        assertEquals(3.0, kept.getFlat(3));
        var e = assertThrows(IllegalStateException.class, () -> dropped.getFlat(0));
        assertTrue(e.getMessage().contains("after its Scope closed"), e.getMessage());
        var op = assertThrows(IllegalStateException.class, () -> Pointwise.relu(dropped));
        assertTrue(op.getMessage().contains("after its Scope closed"), op.getMessage());
    }

    @Test
    void keepMovesToTheEnclosingScope() {
        try (Scope outer = Scope.open()) {
            Tensor t;
            try (Scope inner = Scope.open()) {
                t = inner.keep(Tensor.zeros(DType.F32, 5));
            }
            assertFalse(t.storage().isReleased());
            assertEquals(1, outer.size());
            outer.close();
            assertTrue(t.storage().isReleased());
        }
    }

    @Test
    void scopesCloseInnermostFirst() {
        Scope outer = Scope.open();
        Scope inner = Scope.open();
        assertThrows(IllegalStateException.class, outer::close);
        inner.close();
        outer.close();
    }

    @Test
    void suspendedAllocationsOutliveTheScope() {
        Tensor persistent;
        try (Scope s = Scope.open()) {
            try (Restore r = Scope.suspend()) {
                persistent = Tensor.zeros(DType.F32, 7);
            }
            assertEquals(0, s.size());
        }
        assertFalse(persistent.storage().isReleased());
    }

    /** A conv → BN → ReLU → pool → linear → CE step, forward and backward, repeated in scopes. */
    @Test
    void theSteadyStateTrainingStepMapsNothingNew() {
        Rng rng = new Rng(11);
        Tensor w = Tensor.randn(rng, DType.F32, 0.2, 8, 3, 3, 3).requiresGrad(true);
        Tensor gamma = Tensor.full(DType.F32, 1, 8).requiresGrad(true);
        Tensor beta = Tensor.zeros(DType.F32, 8).requiresGrad(true);
        Tensor rm = Tensor.zeros(DType.F32, 8), rv = Tensor.full(DType.F32, 1, 8);
        Tensor fc = Tensor.randn(rng, DType.F32, 0.2, 10, 8).requiresGrad(true);
        Tensor x = Tensor.randn(rng, DType.F32, 1, 4, 3, 8, 8);
        Tensor y = Tensor.ofInts(new int[] {1, 5, 9, 0}, 4);
        HostAllocator.Stats before = null;
        for (int step = 0; step < 6; step++) {
            try (Scope s = Scope.open()) {
                Tensor h = Pointwise.relu(Norm.batchNorm(Conv.conv2d(x, w, null, 1, 1, 1), gamma, beta, rm, rv, true, 0.1, 1e-5));
                Tensor logits = Conv.linear(Pool.globalAvgPool(Pool.maxPool2d(h, 2, 2, 0, false)), fc, null);
                Autograd.backward(Losses.crossEntropy(logits, y));
                Layout.flatten(h);
            }
            if (step == 1) before = org.stablekd.testing.AllocatorStats.settled();
        }
        HostAllocator.Stats after = org.stablekd.testing.AllocatorStats.settled();
        assertEquals(before.freshBlocks(), after.freshBlocks(), "steps after the first map no new blocks");
        assertEquals(before.inUseBytes(), after.inUseBytes(), "every step's tensors are returned");
    }
}

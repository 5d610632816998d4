package org.stablekd.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.autograd.Node;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * Every op has a registry case, is recorded under its own name (or, if not differentiable, never
 * recorded), and runs on every host backend.
 */
class OpCoverageTest {

    @Test
    void everyOpHasARegistryCase() {
        Set<Op> recorded = ops(OpRegistry.all()), unrecorded = ops(OpRegistry.unrecorded());
        Set<Op> missing = EnumSet.noneOf(Op.class);
        for (Op op : Op.values()) if (!(op.differentiable() ? recorded : unrecorded).contains(op)) missing.add(op);
        assertTrue(missing.isEmpty(), "ops without an OpRegistry case (all() if differentiable, else unrecorded()): " + missing);
        for (Op op : unrecorded) assertTrue(!op.differentiable(), op + " is differentiable: its cases belong in all()");
    }

    private static Set<Op> ops(java.util.List<OpRegistry.Case> cases) {
        return cases.stream().map(OpRegistry.Case::op).collect(Collectors.toCollection(() -> EnumSet.noneOf(Op.class)));
    }

    @Test
    void unrecordedOpsRecordNothingAndHaveNoRule() {
        for (OpRegistry.Case c : OpRegistry.unrecorded()) {
            try (Scope s = Scope.open()) {
                Tensor[] in = c.make(DType.F32, 1);
                for (Tensor t : in) if (t.dtype().floating) t.requiresGrad(true);   // labels are I32
                assertNull(c.call().apply(in).gradFn(), c.name() + ": recorded");
            }
        }
        for (Op op : Op.values()) {
            if (op.differentiable()) continue;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Autograd.record(op, Tensor.zeros(DType.F32, 1), null, new Tensor[] {Tensor.zeros(DType.F32, 1).requiresGrad(true)}));
            assertTrue(e.getMessage().contains("never recorded"), e.getMessage());
        }
    }

    @Test
    void everyCaseRecordsTheOpItTests() {
        for (OpRegistry.Case c : OpRegistry.all()) {
            try (Scope s = Scope.open()) {
                Tensor[] in = c.make(DType.F32, 1);
                for (int i = 0; i < in.length; i++) if (c.inputs().get(i).differentiable()) in[i].requiresGrad(true);
                Tensor out = c.call().apply(in);
                assertNotNull(out.gradFn(), c.name() + ": output not recorded");
                assertEquals(c.op(), ((Node) out.gradFn()).op(), c.name() + ": recorded op");
            }
        }
    }

    @Test
    void everyOpRunsOnEveryHostBackend() {
        Set<Op> cpuMissing = EnumSet.noneOf(Op.class), refMissing = EnumSet.noneOf(Op.class);
        for (Op op : Op.values()) {
            if (!Backends.cpu().supports(op, DType.F32)) cpuMissing.add(op);
            if (!Backends.ref().supports(op, DType.F32) || !Backends.ref().supports(op, DType.F64)) refMissing.add(op);
        }
        assertTrue(refMissing.isEmpty(), "ops the ref backend lacks: " + refMissing);
        assertTrue(cpuMissing.isEmpty(), "ops the cpu backend lacks for F32 (they would silently run on ref): " + cpuMissing);
    }
}

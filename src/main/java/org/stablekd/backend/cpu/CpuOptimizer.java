package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.stablekd.backend.Op;
import org.stablekd.backend.OptimizerKernels;
import org.stablekd.tensor.Tensor;

/**
 * SGD over the whole parameter slab in one pass (p, grad, momentum buffer: 1-D, same length),
 * in float as PyTorch does: g = grad + wd·p; buf = m·buf + g; step = nesterov ? g + m·buf : buf;
 * p −= lr·step. Split over threads in fixed ranges.
 */
final class CpuOptimizer implements OptimizerKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.SGD_STEP);
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    @Override
    public void sgd(Tensor params, Tensor grads, Tensor momentumBuf, double lr, double momentum, double weightDecay, boolean nesterov) {
        MemorySegment p = params.segment(), g = grads.segment(), b = momentumBuf.segment();
        long po = params.offset(), go = grads.offset(), bo = momentumBuf.offset();
        int n = Math.toIntExact(params.numel());
        Parallel.forRange(n, 1 << 15, (start, end) ->
                sgd(p, po, g, go, b, bo, start, end, (float) lr, (float) momentum, (float) weightDecay, nesterov));
    }

    // p, g, b: float arrays at element offsets po, go, bo; updates elements [start, end)
    static void sgd(MemorySegment p, long po, MemorySegment g, long go, MemorySegment b, long bo,
                    int start, int end, float lr, float m, float wd, boolean nesterov) {
        int i = start;
        int bound = start + F.loopBound(end - start);
        for (; i < bound; i += F.length()) {
            FloatVector pv = FloatVector.fromMemorySegment(F, p, (po + i) * 4, LE);
            FloatVector d = FloatVector.fromMemorySegment(F, g, (go + i) * 4, LE).add(pv.mul(wd));
            FloatVector buf = FloatVector.fromMemorySegment(F, b, (bo + i) * 4, LE).mul(m).add(d);
            buf.intoMemorySegment(b, (bo + i) * 4, LE);
            FloatVector step = nesterov ? d.add(buf.mul(m)) : buf;
            pv.sub(step.mul(lr)).intoMemorySegment(p, (po + i) * 4, LE);
        }
        for (; i < end; i++) {
            float pv = p.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, po + i);
            float d = g.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, go + i) + wd * pv;
            float buf = m * b.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, bo + i) + d;
            b.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, bo + i, buf);
            float step = nesterov ? d + m * buf : buf;
            p.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, po + i, pv - lr * step);
        }
    }
}

package org.stablekd.backend.cpu;

import static org.stablekd.backend.cpu.Simd.F;
import static org.stablekd.backend.cpu.Simd.LANES;
import static org.stablekd.backend.cpu.Simd.get;
import static org.stablekd.backend.cpu.Simd.load;
import static org.stablekd.backend.cpu.Simd.set;
import static org.stablekd.backend.cpu.Simd.store;

import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Set;
import jdk.incubator.vector.FloatVector;
import org.stablekd.backend.Op;
import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.tensor.Tensor;

/**
 * Mean squared error over contiguous F32 tensors. The loss sums float blocks in double in a fixed
 * chunk order ({@link CpuReduce#inChunks}): the same result for any thread count (see
 * Note [Determinism]); the backward is one elementwise pass.
 */
final class CpuRegressionLoss implements RegressionLossKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.MSE_LOSS);

    private static final CpuRegressionLoss INSTANCE = new CpuRegressionLoss();

    private CpuRegressionLoss() {}

    static RegressionLossKernels kernels() {
        return INSTANCE;
    }

    // Σ (a − b)² over n contiguous values, in double (float blocks, 2 accumulators)
    static double sumSqDiff(MemorySegment a, long ao, MemorySegment b, long bo, long n) {
        double total = 0;
        for (long base = 0; base < n; base += CpuReduce.BLOCK) {
            int len = (int) Math.min(CpuReduce.BLOCK, n - base);
            long ap = ao + base, bp = bo + base;
            FloatVector a0 = FloatVector.zero(F), a1 = a0;
            int j = 0;
            for (int bound = F.loopBound(len) - LANES; j < bound; j += 2 * LANES) {
                FloatVector d0 = load(a, ap + j).sub(load(b, bp + j));
                FloatVector d1 = load(a, ap + j + LANES).sub(load(b, bp + j + LANES));
                a0 = d0.fma(d0, a0);
                a1 = d1.fma(d1, a1);
            }
            for (int bound = F.loopBound(len); j < bound; j += LANES) {
                FloatVector d = load(a, ap + j).sub(load(b, bp + j));
                a0 = d.fma(d, a0);
            }
            float s = Simd.sumLanes(a0.add(a1));
            for (; j < len; j++) {
                float d = get(a, ap + j) - get(b, bp + j);
                s += d * d;
            }
            total += s;
        }
        return total;
    }

    // da = scale·(a − b), db = −da over n contiguous values; either output may be null
    static void mseBackward(MemorySegment a, long ao, MemorySegment b, long bo, MemorySegment da, long dao,
                            MemorySegment db, long dbo, long n, float scale) {
        long j = 0;
        for (long bound = F.loopBound(n); j < bound; j += LANES) {
            FloatVector d = load(a, ao + j).sub(load(b, bo + j)).mul(scale);
            if (da != null) store(d, da, dao + j);
            if (db != null) store(d.neg(), db, dbo + j);
        }
        for (; j < n; j++) {
            float d = (get(a, ao + j) - get(b, bo + j)) * scale;
            if (da != null) set(da, dao + j, d);
            if (db != null) set(db, dbo + j, -d);
        }
    }

    // ---------------------------------------------------------------- family adapter

    @Override
    public void mse(Tensor a, Tensor b, Tensor loss) {
        Simd.requireF32("mse_loss", a, b, loss);
        MemorySegment as = a.segment(), bs = b.segment();
        long ao = a.offset(), bo = b.offset(), n = a.numel();
        double sum = CpuReduce.inChunks(n, (from, count) -> sumSqDiff(as, ao + from, bs, bo + from, count));
        set(loss.segment(), loss.offset(), (float) (sum / n));
    }

    @Override
    public void mseBackward(Tensor a, Tensor b, Tensor g, Tensor da, Tensor db) {
        Simd.requireF32("mse_loss backward", a, b, g, da, db);
        if (da == null && db == null) return;
        MemorySegment as = a.segment(), bs = b.segment();
        MemorySegment das = da == null ? null : da.segment(), dbs = db == null ? null : db.segment();
        long ao = a.offset(), bo = b.offset(), dao = da == null ? 0 : da.offset(), dbo = db == null ? 0 : db.offset();
        long n = a.numel();
        float scale = (float) (2 * get(g.segment(), g.offset()) / (double) n);
        Simd.forSpans(n, (i, count) -> mseBackward(as, ao + i, bs, bo + i, das, dao + i, dbs, dbo + i, count, scale));
    }
}

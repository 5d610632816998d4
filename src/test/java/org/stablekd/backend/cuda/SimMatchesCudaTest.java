package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Op;
import org.stablekd.backend.sim.SimBackend;

/**
 * The simulated device runs exactly the F32 ops the CUDA backend has kernels for (its SUPPORTED
 * sets, read without loading CUDA), so a method that trains on it is not relying on an op the GPU
 * lacks. Runs without a GPU.
 */
class SimMatchesCudaTest {
    @Test
    void theSimulatedDeviceRunsTheOpsCudaRuns() {
        Set<Op> cuda = EnumSet.noneOf(Op.class);
        cuda.addAll(CudnnConv.SUPPORTED);
        cuda.addAll(CudaGemm.SUPPORTED);
        cuda.addAll(CudaNorm.SUPPORTED);
        cuda.addAll(CudaPointwise.SUPPORTED);
        cuda.addAll(CudaCopy.SUPPORTED);
        cuda.addAll(CudaPool.SUPPORTED);
        cuda.addAll(CudaSoftmaxLoss.SUPPORTED);
        cuda.addAll(CudaRegressionLoss.SUPPORTED);
        cuda.addAll(CudaDistill.SUPPORTED);
        cuda.addAll(CudaReduce.SUPPORTED);
        cuda.addAll(CudaOptimizer.SUPPORTED);
        Set<Op> sim = EnumSet.noneOf(Op.class);
        for (Op op : Op.values()) if (SimBackend.runsF32(op)) sim.add(op);
        assertEquals(cuda, sim);
    }
}

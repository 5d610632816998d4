package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertBitIdentical;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.cuda.CudaTensors;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * NCCL on a real GPU, one rank (a GPU machine of this project has one GPU, and NCCL refuses two
 * ranks on one device): the unique id, ncclCommInitRank, an all-reduce and a broadcast on the
 * CUDA backend's stream, and a kernel queued after them reading their result. A one-rank sum is
 * the identity, so this checks the bridge, pointers, counts and stream order, not the reduction
 * across ranks (benchmarks/results/gpu.md lists that as unverified).
 */
@Tag("gpu")
class NcclGpuTest {
    static Nccl nccl;

    @BeforeAll
    static void start() {
        String reason = Nccl.unavailableReason();
        Assumptions.assumeTrue(reason == null, () -> "no NCCL here: " + reason);
        nccl = Nccl.start(Local.INSTANCE);
    }

    @AfterAll
    static void stop() {
        if (nccl != null) nccl.close();
    }

    @Test
    void oneRankAllreduceAndBroadcastKeepTheValuesAndAreStreamOrdered() {
        assertTrue(nccl.name().startsWith("nccl 2."), nccl.name());
        try (Scope s = Scope.open()) {
            // odd size, above NCCL's small-message paths
            Tensor host = Tensor.randn(new Rng(5), DType.F32, 1, 3 * 1024 * 1024 + 7);
            Tensor dev = CudaTensors.toDevice(host);
            nccl.allreduceSum(dev);
            Tensor doubled = Pointwise.scale(dev, 2);   // a kernel queued after the collective
            nccl.broadcast(dev, 0);
            float[] expected = host.toFloatArray();
            assertBitIdentical(expected, CudaTensors.toHost(dev).toFloatArray(), "after allreduce and broadcast");
            float[] twice = new float[expected.length];
            for (int i = 0; i < twice.length; i++) twice[i] = 2 * expected[i];
            assertBitIdentical(twice, CudaTensors.toHost(doubled).toFloatArray(), "a kernel after the allreduce");
        }
    }
}

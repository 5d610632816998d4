package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;

/**
 * Without a GPU: the CUDA kernel families declare the fusions the op frontends dispatch on
 * (Norm.batchNormRelu asks fusesRelu, distill.KdLogitLoss asks fusesKdCe), the fused ops are in
 * their supported sets, and no CUDA class has backward rules of its own: gradients come from the
 * one derivatives table (autograd.Derivatives) that the CPU uses, through the same op frontends.
 */
class FusedDispatchTest {
    @Test
    void cudaDeclaresTheFusedKernelsTheFrontendsAskFor() {
        assertTrue(new CudaSoftmaxLoss(null, null).fusesKdCe(), "KD_CE_LOSS: kd_ce_fused_f32");
        assertTrue(new CudaNorm(null).fusesRelu(), "BATCH_NORM + ReLU: bn_apply_relu_f32, bn_eval_relu_f32, masked backward");
        assertTrue(CudaSoftmaxLoss.SUPPORTED.contains(Op.KD_CE_LOSS));
        assertTrue(CudaNorm.SUPPORTED.contains(Op.BATCH_NORM));
        assertTrue(CudaDistill.SUPPORTED.contains(Op.DKD_LOSS), "DKD is one op, dkd_loss.cu's two kernels");
        assertFalse(Backends.cpu().softmaxLoss().fusesKdCe(), "host results keep CE and KD apart");
        assertFalse(Backends.ref().softmaxLoss().fusesKdCe());
    }

    @Test
    void noCudaClassCallsIntoAutograd() {
        List<String> calls = BridgeCalls.invokes().stream()
                .filter(i -> i.owner().startsWith("org/stablekd/autograd/"))
                .map(i -> i.caller() + " → " + i.owner() + "." + i.name()).toList();
        assertEquals(List.of(), calls, "backward rules belong in autograd.Derivatives, shared with the CPU");
        assertFalse(BridgeCalls.invokes().isEmpty(), "the bytecode of backend.cuda was read");
    }
}

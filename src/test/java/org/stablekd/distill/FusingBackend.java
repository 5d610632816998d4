package org.stablekd.distill;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.CopyKernels;
import org.stablekd.backend.DistillKernels;
import org.stablekd.backend.GemmKernels;
import org.stablekd.backend.NormKernels;
import org.stablekd.backend.Op;
import org.stablekd.backend.OptimizerKernels;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.backend.PoolKernels;
import org.stablekd.backend.ReduceKernels;
import org.stablekd.backend.RegressionLossKernels;
import org.stablekd.backend.SoftmaxLossKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Tensor;

/**
 * The cpu backend, but declaring that it fuses KD_CE_LOSS as CUDA does, with the softmax-loss
 * calls logged: shows without a GPU which ops a distillation step asks a fusing backend for.
 */
final class FusingBackend implements Backend {
    final List<String> calls = new ArrayList<>();
    private final Backend cpu = Backends.cpu();

    @Override public String name() { return "fusing-spy"; }
    @Override public Device device() { return Device.CPU; }
    @Override public boolean supports(Op op, DType dtype) { return cpu.supports(op, dtype); }
    @Override public ConvKernels conv() { return cpu.conv(); }
    @Override public GemmKernels gemm() { return cpu.gemm(); }
    @Override public NormKernels norm() { return cpu.norm(); }
    @Override public PointwiseKernels pointwise() { return cpu.pointwise(); }
    @Override public CopyKernels copy() { return cpu.copy(); }
    @Override public PoolKernels pool() { return cpu.pool(); }
    @Override public RegressionLossKernels regressionLoss() { return cpu.regressionLoss(); }
    @Override public DistillKernels distill() { return cpu.distill(); }
    @Override public ReduceKernels reduce() { return cpu.reduce(); }
    @Override public OptimizerKernels optimizer() { return cpu.optimizer(); }

    @Override
    public SoftmaxLossKernels softmaxLoss() {
        SoftmaxLossKernels k = cpu.softmaxLoss();
        return new SoftmaxLossKernels() {
            public boolean fusesKdCe() { return true; }
            public void softmax(Tensor x, double t, boolean log, Tensor y) { k.softmax(x, t, log, y); }
            public void softmaxBackward(Tensor y, Tensor dy, double t, boolean log, Tensor dx) { k.softmaxBackward(y, dy, t, log, dx); }
            public void crossEntropy(Tensor l, Tensor lab, double s, Tensor loss) { calls.add("crossEntropy"); k.crossEntropy(l, lab, s, loss); }
            public void crossEntropyBackward(Tensor l, Tensor lab, double s, Tensor g, Tensor d) {
                calls.add("crossEntropyBackward");
                k.crossEntropyBackward(l, lab, s, g, d);
            }
            public void kdLoss(Tensor s, Tensor t, double tau, Tensor loss) { calls.add("kdLoss"); k.kdLoss(s, t, tau, loss); }
            public void kdLossBackward(Tensor s, Tensor t, double tau, Tensor g, Tensor ds, Tensor dt) {
                calls.add("kdLossBackward");
                k.kdLossBackward(s, t, tau, g, ds, dt);
            }
            public void kdCrossEntropy(Tensor s, Tensor t, Tensor l, double tau, double wc, double wk, Tensor loss) {
                calls.add("kdCrossEntropy");
                k.kdCrossEntropy(s, t, l, tau, wc, wk, loss);
            }
            public void kdCrossEntropyBackward(Tensor s, Tensor t, Tensor l, double tau, double wc, double wk, Tensor g, Tensor ds) {
                calls.add("kdCrossEntropyBackward");
                k.kdCrossEntropyBackward(s, t, l, tau, wc, wk, g, ds);
            }
        };
    }
}

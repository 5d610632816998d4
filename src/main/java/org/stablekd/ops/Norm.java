package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** Batch normalization (PyTorch's BatchNorm2d: momentum 0.1 and eps 1e-5 by default). */
public final class Norm {
    public static final double DEFAULT_MOMENTUM = 0.1;
    public static final double DEFAULT_EPS = 1e-5;

    private Norm() {}

    /**
     * y = (x − μ)/√(σ²+eps)·gamma + beta per channel of x (n,c,h,w). Training: μ, σ² are the
     * batch statistics and runMean/runVar (c) are updated in place (unbiased variance); eval:
     * the running statistics are used and left alone.
     */
    public static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                   boolean training, double momentum, double eps) {
        return batchNorm(x, gamma, beta, runMean, runVar, training, momentum, eps, false);
    }

    /**
     * relu(batchNorm(…)) as one op where the backend fuses it (one pass less forward, and the
     * ReLU's backward folded into the batch norm's); elsewhere the two ops one after the other.
     * Same values and gradients either way.
     */
    public static Tensor batchNormRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                       boolean training, double momentum, double eps) {
        if (!Checks.backend(Op.BATCH_NORM, x).norm().fusesRelu()) {
            return Pointwise.relu(batchNorm(x, gamma, beta, runMean, runVar, training, momentum, eps, false));
        }
        return batchNorm(x, gamma, beta, runMean, runVar, training, momentum, eps, true);
    }

    /** What both BatchNorm frontends check: x (N,C,H,W), and γ, β and the running statistics (C), all floats; eps > 0. */
    private static void checkArguments(String op, Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar, double eps) {
        Checks.rank(op, "input", x, 4, "(N,C,H,W)");
        Checks.floats(op, x, gamma, beta, runMean, runVar);
        Shape ch = Shape.of(x.dim(1));
        Checks.shape(op, "weight (gamma)", gamma, ch);
        Checks.shape(op, "bias (beta)", beta, ch);
        Checks.shape(op, "running_mean", runMean, ch);
        Checks.shape(op, "running_var", runVar, ch);
        check(eps > 0, op, "eps must be positive, got %s", eps);
    }

    private static Tensor batchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                    boolean training, double momentum, double eps, boolean relu) {
        String op = relu ? "batch_norm+relu" : "batch_norm";
        checkArguments(op, x, gamma, beta, runMean, runVar, eps);
        Shape ch = Shape.of(x.dim(1));
        check(!training || (long) x.dim(0) * x.dim(2) * x.dim(3) > 1, op,
                "training needs more than one value per channel, got input %s", x.shape());
        check(runMean.isContiguous() && runVar.isContiguous(), op, "running statistics must be contiguous (they are updated in place)");
        Tensor xc = Checks.contiguous(x), gc = Checks.contiguous(gamma), bc = Checks.contiguous(beta);
        Tensor y = Tensor.emptyLike(x);
        var kernels = Checks.backend(Op.BATCH_NORM, x).norm();
        boolean record = Autograd.needsGrad(x, gamma, beta);
        Tensor mean = null, invStd = null;
        Tensor affine = relu ? Tensor.emptyLike(x, Shape.of(2 * x.dim(1))) : null;   // the fused relu's per-channel scale, shift
        if (training) {
            mean = Tensor.emptyLike(x, ch);
            invStd = Tensor.emptyLike(x, ch);
            if (relu) kernels.batchNormTrainRelu(xc, gc, bc, runMean, runVar, momentum, eps, y, mean, invStd, affine);
            else kernels.batchNormTrain(xc, gc, bc, runMean, runVar, momentum, eps, y, mean, invStd);
        } else {
            if (relu) kernels.batchNormEvalRelu(xc, gc, bc, runMean, runVar, eps, y, affine);
            else kernels.batchNormEval(xc, gc, bc, runMean, runVar, eps, y);
            if (record) {
                // the backward needs 1/sqrt(runVar + eps), computed once here
                mean = Tensor.emptyLike(x, ch);
                invStd = Tensor.emptyLike(x, ch);
                Memory.copy(runMean, mean);
                invStdOf(runVar, eps, invStd);
            }
        }
        Tensor[] inputs = {xc, gc, bc};
        return relu ? Autograd.record(Op.BATCH_NORM, y, new Attrs.BatchNorm(training, eps, true, false), inputs, mean, invStd, y, affine)
                : Autograd.record(Op.BATCH_NORM, y, new Attrs.BatchNorm(training, eps, false, false), inputs, mean, invStd);
    }

    /**
     * relu(batchNorm(x) + r), r (N,C,H,W) like x: the end of a residual block. In training, one op
     * where the backend fuses it: the batch norm's output is never materialized (one pass over
     * memory and one saved activation less); its backward is the add-ReLU's mask, then the batch
     * norm's rule, and r gets the masked gradient. Elsewhere (eval, or a backend without the fused
     * kernel) the two ops one after the other. Same values and gradients either way.
     */
    public static Tensor batchNormAddRelu(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                          boolean training, double momentum, double eps, Tensor r) {
        String op = "batch_norm+add+relu";
        checkArguments(op, x, gamma, beta, runMean, runVar, eps);
        Checks.notNull(op, "residual", r);
        Checks.floats(op, x, r);
        Checks.shape(op, "residual", r, x.shape());
        var kernels = Checks.backend(Op.BATCH_NORM, x).norm();
        if (!training || !kernels.fusesAddRelu() || !r.device().equals(x.device())) {
            return Pointwise.addRelu(batchNorm(x, gamma, beta, runMean, runVar, training, momentum, eps, false), r);
        }
        check((long) x.dim(0) * x.dim(2) * x.dim(3) > 1, op, "training needs more than one value per channel, got input %s", x.shape());
        check(runMean.isContiguous() && runVar.isContiguous(), op, "running statistics must be contiguous (they are updated in place)");
        Tensor xc = Checks.contiguous(x), gc = Checks.contiguous(gamma), bc = Checks.contiguous(beta), rc = Checks.contiguous(r);
        Shape ch = Shape.of(x.dim(1));
        Tensor y = Tensor.emptyLike(x), mean = Tensor.emptyLike(x, ch), invStd = Tensor.emptyLike(x, ch);
        kernels.batchNormTrainAddRelu(xc, gc, bc, runMean, runVar, momentum, eps, rc, y, mean, invStd);
        // saved: the batch statistics, and y (the add-ReLU's mask)
        return Autograd.record(Op.BATCH_NORM, y, new Attrs.BatchNorm(true, eps, false, true), new Tensor[] {xc, gc, bc, rc}, mean, invStd, y);
    }

    /**
     * batchNorm in training mode with the statistics of the union of every rank's x in
     * {@code group} (synchronized BatchNorm, as torch.nn.SyncBatchNorm). Forward: each rank
     * writes its count, mean and m·σ² per channel into its row of a zeroed ranks × (1 + 3c)
     * tensor, one all-reduce (a sum over rows others left at zero: an all-gather) gives every rank
     * every row, and each combines them in rank order (NormKernels.batchNormSyncTrain); the
     * running statistics are updated from the global ones (variance unbiased over the global
     * count). Backward: Σdy and Σdy·(x − μ) are all-reduced so that dx is the gradient through the
     * global statistics, while dγ and dβ are this rank's share (the gradient reducer sums them).
     * Every rank must call it, and run its backward, in the same order; the backward all-reduces
     * only where x needs a gradient, which is the same on every rank running the same model.
     * See docs/design.md, Data-parallel BatchNorm.
     */
    public static Tensor syncBatchNorm(Tensor x, Tensor gamma, Tensor beta, Tensor runMean, Tensor runVar,
                                       double momentum, double eps, ReduceGroup group) {
        String op = "sync_batch_norm";
        checkArguments(op, x, gamma, beta, runMean, runVar, eps);
        Shape ch = Shape.of(x.dim(1));
        check(group != null && group.size() >= 1 && group.rank() >= 0 && group.rank() < group.size(), op,
                "needs a group with a rank in [0, size), got %s", group == null ? "none" : group.rank() + " of " + group.size());
        long m = (long) x.dim(0) * x.dim(2) * x.dim(3);
        check(m >= 1 && m < (1 << 24), op, "a rank's values per channel travel as a float count, so 1 ≤ n·h·w < 2^24, got input %s", x.shape());
        check(runMean.isContiguous() && runVar.isContiguous(), op, "running statistics must be contiguous (they are updated in place)");
        Tensor xc = Checks.contiguous(x), gc = Checks.contiguous(gamma), bc = Checks.contiguous(beta);
        var backend = Checks.backend(Op.SYNC_BATCH_NORM, x);
        int c = x.dim(1), width = 1 + 3 * c;
        Tensor rows = Tensor.emptyLike(x, Shape.of(group.size(), width));
        backend.pointwise().fill(rows, 0);
        backend.norm().batchNormLocalStats(xc, rows.narrowView(0, group.rank(), 1).viewAs(width));
        group.allreduceSum(rows);
        long count = 0;
        for (int r = 0; r < group.size(); r++) count += (long) rows.getFlat((long) r * width);
        check(count > 1, op, "training needs more than one value per channel over all ranks, got %s", count);
        Tensor y = Tensor.emptyLike(x), mean = Tensor.emptyLike(x, ch), invStd = Tensor.emptyLike(x, ch);
        backend.norm().batchNormSyncTrain(xc, gc, bc, runMean, runVar, rows, momentum, eps, y, mean, invStd);
        return Autograd.record(Op.SYNC_BATCH_NORM, y, new Attrs.SyncBatchNorm(eps, group, count), new Tensor[] {xc, gc, bc}, mean, invStd);
    }

    /** {dx, dgamma, dbeta} of syncBatchNorm, each null where not wanted (for the derivatives table). */
    public static Tensor[] syncGrads(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Attrs.SyncBatchNorm a,
                                     boolean wantX, boolean wantGamma, boolean wantBeta) {
        var backend = Checks.backend(Op.SYNC_BATCH_NORM, x);
        Tensor local = Tensor.emptyLike(x, Shape.of(2 * x.dim(1)));
        backend.norm().batchNormGradSums(x, dy, mean, local);
        Tensor global = null;
        if (wantX) {
            global = Tensor.emptyLike(local);
            backend.copy().copy(local, global);
            a.group().allreduceSum(global);
        }
        Tensor dx = wantX ? Tensor.emptyLike(x) : null;
        Tensor dg = wantGamma ? Tensor.emptyLike(gamma) : null;
        Tensor db = wantBeta ? Tensor.emptyLike(gamma) : null;
        backend.norm().batchNormSyncBackward(x, dy, gamma, mean, invStd, local, global, a.count(), dx, dg, db);
        return new Tensor[] {dx, dg, db};
    }

    /**
     * out = 1/sqrt(var + eps) on any device, through the eval kernel itself:
     * y = (1 − 0)·invStd·1 + 0 for a (1,c,1,1) input of ones.
     */
    private static void invStdOf(Tensor var, double eps, Tensor out) {
        int c = (int) var.numel();
        var backend = Checks.backend(Op.BATCH_NORM, var);
        Tensor ones = Tensor.emptyLike(var, Shape.of(1, c, 1, 1));
        Tensor zeros = Tensor.emptyLike(var);
        Tensor unit = Tensor.emptyLike(var);
        backend.pointwise().fill(ones, 1);
        backend.pointwise().fill(zeros, 0);
        backend.pointwise().fill(unit, 1);
        backend.norm().batchNormEval(ones, unit, zeros, zeros, var, eps, out.viewAs(1, c, 1, 1));
    }

    /**
     * {dx, dgamma, dbeta}, each null where not wanted (for the derivatives table); reluOut and
     * reluAffine: the output and saved affine of a fused batchNormRelu (dy then counts where the
     * output is positive), else null.
     */
    public static Tensor[] grads(Tensor x, Tensor dy, Tensor gamma, Tensor mean, Tensor invStd, Tensor reluOut, Tensor reluAffine,
                                 boolean training, boolean wantX, boolean wantGamma, boolean wantBeta) {
        Tensor dx = wantX ? Tensor.emptyLike(x) : null;
        Tensor dg = wantGamma ? Tensor.emptyLike(gamma) : null;
        Tensor db = wantBeta ? Tensor.emptyLike(gamma) : null;
        var kernels = Checks.backend(Op.BATCH_NORM, x).norm();
        if (reluOut != null) kernels.batchNormReluBackward(x, reluOut, reluAffine, dy, gamma, mean, invStd, training, dx, dg, db);
        else kernels.batchNormBackward(x, dy, gamma, mean, invStd, training, dx, dg, db);
        return new Tensor[] {dx, dg, db};
    }
}

package org.stablekd.ops;

import static org.stablekd.ops.Checks.check;

import org.stablekd.autograd.Autograd;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.InvertedResidualGeometry;
import org.stablekd.backend.Op;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/** 2-D convolution (the linear layer is {@link Dense}). */
public final class Conv {
    private Conv() {}

    /** Square kernel helper: same stride and padding on both axes. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding, int groups) {
        return conv2d(x, w, bias, stride, stride, padding, padding, groups);
    }

    /**
     * y (n,k,p,q) = conv(x (n,c,h,w), w (k,c/groups,r,s)) + bias (k), bias optional (null).
     * groups == c == k is a depthwise convolution.
     */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int strideH, int strideW, int padH, int padW, int groups) {
        ConvGeometry g = geometry(x, w, bias, strideH, strideW, padH, padW, groups);
        Tensor xc = Checks.contiguous(x), wc = Checks.contiguous(w), bc = Checks.contiguous(bias);
        Tensor y = Tensor.emptyLike(x, Shape.of(g.n(), g.k(), g.p(), g.q()));
        Checks.backend(Op.CONV2D, x).conv().forward(g, xc, wc, bc, y);
        MacCounter.add(g.macs());
        return Autograd.record(Op.CONV2D, y, g, new Tensor[] {xc, wc, bc});
    }

    /**
     * relu(conv2d(x, w, bias)) with square stride and padding, for inference (a folded conv →
     * BatchNorm → ReLU): one kernel with the ReLU in its epilogue where the backend fuses it and
     * nothing needs a gradient, else the two recorded ops.
     */
    public static Tensor conv2dRelu(Tensor x, Tensor w, Tensor bias, int stride, int padding, int groups) {
        ConvGeometry g = geometry(x, w, bias, stride, stride, padding, padding, groups);
        ConvKernels kernels = Checks.backend(Op.CONV2D, x).conv();
        if (!kernels.fusesRelu() || Autograd.needsGrad(x, w, bias)) {
            return Pointwise.relu(conv2d(x, w, bias, stride, stride, padding, padding, groups));
        }
        Tensor xc = Checks.contiguous(x), wc = Checks.contiguous(w), bc = Checks.contiguous(bias);
        Tensor y = Tensor.emptyLike(x, Shape.of(g.n(), g.k(), g.p(), g.q()));
        kernels.forwardRelu(g, xc, wc, bc, y);
        MacCounter.add(g.macs());
        return y;
    }

    /**
     * relu(conv2d(x, w, bias) + r) with square stride and padding, for inference (the end of a
     * residual block whose BatchNorm is folded): one kernel with the add and the ReLU in its
     * epilogue where the backend fuses them and nothing needs a gradient, else the two recorded
     * ops. Either way the same bits.
     */
    public static Tensor conv2dAddRelu(Tensor x, Tensor w, Tensor bias, Tensor r, int stride, int padding, int groups) {
        ConvGeometry g = geometry(x, w, bias, stride, stride, padding, padding, groups);
        ConvKernels kernels = Checks.backend(Op.CONV2D, x).conv();
        if (!kernels.fusesAddRelu() || Autograd.needsGrad(x, w, bias, r)) {
            return Pointwise.addRelu(conv2d(x, w, bias, stride, stride, padding, padding, groups), r);
        }
        Checks.floats("conv2dAddRelu", r);
        Checks.shape("conv2dAddRelu", "residual", r, Shape.of(g.n(), g.k(), g.p(), g.q()));
        Tensor xc = Checks.contiguous(x), wc = Checks.contiguous(w), bc = Checks.contiguous(bias), rc = Checks.contiguous(r);
        Tensor y = Tensor.emptyLike(x, Shape.of(g.n(), g.k(), g.p(), g.q()));
        kernels.forwardAddRelu(g, xc, wc, bc, rc, y);
        MacCounter.add(g.macs());
        return y;
    }

    /**
     * A run of identity residual blocks with their BatchNorms folded, for inference: for each block i,
     * <pre>
     *   x = relu(conv3×3(relu(conv3×3(x, w1[i]) + b1[i]), w2[i]) + b2[i] + x)
     * </pre>
     * x (n,c,h,w), weights (c,c,3,3), biases (c), padding 1. One backend call where it chains such
     * blocks and nothing needs a gradient, else conv2dRelu and conv2dAddRelu block by block. Either
     * way the same bits.
     */
    public static Tensor residualChain(Tensor x, Tensor[] w1, Tensor[] b1, Tensor[] w2, Tensor[] b2) {
        String op = "residualChain";
        check(w1.length == b1.length && w1.length == w2.length && w1.length == b2.length, op,
                "needs as many weights and biases of each kind, got %d, %d, %d, %d", w1.length, b1.length, w2.length, b2.length);
        ConvGeometry g = null;
        for (int i = 0; i < w1.length; i++) {
            g = geometry(x, w1[i], b1[i], 1, 1, 1, 1, 1);
            geometry(x, w2[i], b2[i], 1, 1, 1, 1, 1);
            check(w1[i].dim(0) == x.dim(1) && w2[i].dim(0) == x.dim(1), op, "block %d changes the channel count (weights %s, %s; input %s)",
                    i, w1[i].shape(), w2[i].shape(), x.shape());
            check(w1[i].dim(2) == 3 && w1[i].dim(3) == 3 && w2[i].dim(2) == 3 && w2[i].dim(3) == 3, op,
                    "block %d needs 3x3 weights, got %s and %s", i, w1[i].shape(), w2[i].shape());
        }
        if (g == null) return x;
        ConvKernels kernels = Checks.backend(Op.CONV2D, x).conv();
        boolean needsGrad = Autograd.needsGrad(x);
        for (int i = 0; i < w1.length; i++) needsGrad |= Autograd.needsGrad(w1[i], b1[i], w2[i], b2[i]);
        boolean biases = true;
        for (int i = 0; i < w1.length; i++) biases &= b1[i] != null && b2[i] != null;
        if (needsGrad || !biases || !kernels.chainsResidualBlocks(g)) {
            for (int i = 0; i < w1.length; i++) x = conv2dAddRelu(conv2dRelu(x, w1[i], b1[i], 1, 1, 1), w2[i], b2[i], x, 1, 1, 1);
            return x;
        }
        Tensor[] w1c = new Tensor[w1.length], b1c = new Tensor[w1.length], w2c = new Tensor[w1.length], b2c = new Tensor[w1.length];
        for (int i = 0; i < w1.length; i++) {
            w1c[i] = Checks.contiguous(w1[i]);
            b1c[i] = Checks.contiguous(b1[i]);
            w2c[i] = Checks.contiguous(w2[i]);
            b2c[i] = Checks.contiguous(b2[i]);
        }
        Tensor y = Tensor.emptyLike(x, x.shape());
        kernels.residualChain(g, Checks.contiguous(x), w1c, b1c, w2c, b2c, y);
        MacCounter.add(2 * w1.length * g.macs());
        return y;
    }

    /**
     * A run of identity residual blocks in training: for each block ({@link ResidualBlockTraining}),
     * <pre>
     *   x = relu(bn2(conv3×3(relu(bn1(conv3×3(x, w1))), w2)) + x)
     * </pre>
     * x (n,c,h,w), weights (c,c,3,3) without bias, padding 1; batch statistics, the running ones
     * updated in place with each block's momenta. One recorded op (RESIDUAL_CHAIN) where the backend
     * chains such blocks in training (the CPU keeps the run channels-last throughout), else the ops
     * it stands for, block by block (conv2d, batchNormRelu, conv2d, batchNormAddRelu). The same
     * values either way up to the order of the BatchNorm sums.
     */
    public static Tensor residualChainTrain(Tensor x, ResidualBlockTraining[] blocks, double eps) {
        String op = "residualChainTrain";
        check(blocks.length >= 1, op, "needs at least one block");
        check(eps > 0, op, "eps must be positive, got %s", eps);
        ConvGeometry g = null;
        for (int i = 0; i < blocks.length; i++) {
            ResidualBlockTraining b = blocks[i];
            Checks.notNull(op, "block " + i + " weight 1", b.w1());
            Checks.notNull(op, "block " + i + " weight 2", b.w2());
            g = geometry(x, b.w1(), null, 1, 1, 1, 1, 1);
            geometry(x, b.w2(), null, 1, 1, 1, 1, 1);
            check(b.w1().dim(0) == x.dim(1) && b.w2().dim(0) == x.dim(1) && b.w1().dim(2) == 3 && b.w1().dim(3) == 3
                    && b.w2().dim(2) == 3 && b.w2().dim(3) == 3, op,
                    "block %d needs 3x3 weights that keep the %d channels, got %s and %s", i, x.dim(1), b.w1().shape(), b.w2().shape());
            Shape ch = Shape.of(x.dim(1));
            Tensor[] stats = {b.gamma1(), b.beta1(), b.runMean1(), b.runVar1(), b.gamma2(), b.beta2(), b.runMean2(), b.runVar2()};
            String[] names = {"gamma 1", "beta 1", "running_mean 1", "running_var 1", "gamma 2", "beta 2", "running_mean 2", "running_var 2"};
            for (int j = 0; j < stats.length; j++) {
                Checks.notNull(op, "block " + i + " " + names[j], stats[j]);
                Checks.floats(op, stats[j]);
                Checks.shape(op, "block " + i + " " + names[j], stats[j], ch);
                boolean running = j % 4 >= 2;
                check(!running || stats[j].isContiguous(), op, "block %d: %s must be contiguous (it is updated in place)", i, names[j]);
            }
        }
        check((long) g.n() * g.h() * g.w() > 1, op, "training needs more than one value per channel, got input %s", x.shape());
        var backend = Checks.backend(Op.CONV2D, x);
        ConvKernels kernels = backend.conv();
        if (!backend.supports(Op.RESIDUAL_CHAIN, x.dtype()) || !kernels.chainsResidualBlocksInTraining(g)) {
            for (ResidualBlockTraining b : blocks) {
                Tensor t = Norm.batchNormRelu(conv2d(x, b.w1(), null, 1, 1, 1), b.gamma1(), b.beta1(), b.runMean1(), b.runVar1(), true,
                        b.momentum1(), eps);
                x = Norm.batchNormAddRelu(conv2d(t, b.w2(), null, 1, 1, 1), b.gamma2(), b.beta2(), b.runMean2(), b.runVar2(), true,
                        b.momentum2(), eps, x);
            }
            return x;
        }
        Tensor xc = Checks.contiguous(x);
        int m = blocks.length;
        Tensor[] inputs = new Tensor[1 + m * ResidualBlockTraining.GRADS];
        inputs[0] = xc;
        ResidualBlockTraining[] contiguous = new ResidualBlockTraining[m];
        for (int i = 0; i < m; i++) {
            ResidualBlockTraining b = blocks[i];
            Tensor[] params = {b.w1(), b.gamma1(), b.beta1(), b.w2(), b.gamma2(), b.beta2()};
            for (int j = 0; j < params.length; j++) params[j] = inputs[1 + i * ResidualBlockTraining.GRADS + j] = Checks.contiguous(params[j]);
            contiguous[i] = new ResidualBlockTraining(params[0], params[1], params[2], b.runMean1(), b.runVar1(), b.momentum1(),
                    params[3], params[4], params[5], b.runMean2(), b.runVar2(), b.momentum2());
        }
        blocks = contiguous;
        // saved per block (ConvKernels.residualChainTrain): activations 0, 1, 5, 6, 9, statistics 2, 3, 7, 8, scale and shift 4;
        // a block's input (0) is the previous block's output (9)
        Shape act = Shape.of(g.n(), g.h(), g.w(), g.c()), ch = Shape.of(g.c()), two = Shape.of(2 * g.c());
        Tensor[] saved = new Tensor[m * ResidualBlockTraining.SAVED];
        for (int i = 0; i < m; i++) {
            int s = i * ResidualBlockTraining.SAVED;
            saved[s] = i == 0 ? Tensor.emptyLike(x, act) : saved[s - 1];
            for (int j : new int[] {1, 5, 6, 9}) saved[s + j] = Tensor.emptyLike(x, act);
            for (int j : new int[] {2, 3, 7, 8}) saved[s + j] = Tensor.emptyLike(x, ch);
            saved[s + 4] = Tensor.emptyLike(x, two);
        }
        Tensor y = Tensor.emptyLike(x, x.shape());
        kernels.residualChainTrain(g, xc, blocks, eps, saved, y);
        MacCounter.add(2L * m * g.macs());
        return Autograd.record(Op.RESIDUAL_CHAIN, y, new Attrs.ResidualChain(g, blocks, eps), inputs, saved);
    }

    /** The gradients of a recorded residualChainTrain, in its inputs' order (x, then per block w1, γ1, β1, w2, γ2, β2), null where not wanted. */
    public static Tensor[] residualChainGrads(Attrs.ResidualChain a, Tensor dy, Tensor[] saved, boolean[] wanted) {
        ResidualBlockTraining[] blocks = a.blocks();
        Tensor dx = wanted[0] ? Tensor.emptyLike(dy) : null;
        Tensor[] grads = new Tensor[blocks.length * ResidualBlockTraining.GRADS];
        for (int i = 0; i < blocks.length; i++) {
            ResidualBlockTraining b = blocks[i];
            Tensor[] params = {b.w1(), b.gamma1(), b.beta1(), b.w2(), b.gamma2(), b.beta2()};
            for (int j = 0; j < params.length; j++) grads[i * ResidualBlockTraining.GRADS + j] = Tensor.emptyLike(dy, params[j].shape());
        }
        Checks.backend(Op.CONV2D, dy).conv().residualChainTrainBackward(a.geometry(), Checks.contiguous(dy), blocks, saved, dx, grads);
        Tensor[] out = new Tensor[1 + grads.length];
        out[0] = dx;
        for (int i = 0; i < grads.length; i++) out[1 + i] = wanted[1 + i] ? grads[i] : null;
        return out;
    }

    /**
     * A MobileNetV2 inverted-residual block with its BatchNorms folded, for inference:
     * <pre>
     *   y = conv1×1(relu(depthwise3×3_s(relu(conv1×1(x, w1) + b1), wd) + bd), w2) + b2  [+ x if residual]
     * </pre>
     * x (n,c,h,w), w1 (m,c,1,1), wd (m,1,3,3) with padding 1 and {@code stride} 1 or 2,
     * w2 (k,m,1,1), biases (m), (m), (k); residual needs stride 1 and k = c. One backend kernel
     * where it fuses the block and nothing needs a gradient, else the recorded ops it stands for.
     */
    public static Tensor invertedResidual(Tensor x, Tensor w1, Tensor b1, Tensor wd, Tensor bd, Tensor w2, Tensor b2,
                                          int stride, boolean residual) {
        String op = "invertedResidual";
        Checks.rank(op, "input", x, 4, "(N,C,H,W)");
        Checks.rank(op, "expand weight", w1, 4, "(M,C,1,1)");
        Checks.rank(op, "project weight", w2, 4, "(K,M,1,1)");
        Checks.floats(op, x, w1, b1, wd, bd, w2, b2);
        int c = x.dim(1), m = w1.dim(0), k = w2.dim(0);
        Checks.shape(op, "expand weight", w1, Shape.of(m, c, 1, 1));
        Checks.shape(op, "expand bias", b1, Shape.of(m));
        Checks.shape(op, "depthwise weight", wd, Shape.of(m, 1, 3, 3));
        Checks.shape(op, "depthwise bias", bd, Shape.of(m));
        Checks.shape(op, "project weight", w2, Shape.of(k, m, 1, 1));
        Checks.shape(op, "project bias", b2, Shape.of(k));
        check(stride == 1 || stride == 2, op, "stride must be 1 or 2, got %d", stride);
        check(!residual || (stride == 1 && k == c), op, "a residual block needs stride 1 and %d output channels, got stride %d and %d", c, stride, k);
        InvertedResidualGeometry g = new InvertedResidualGeometry(x.dim(0), c, x.dim(2), x.dim(3), m, k, stride, residual);
        ConvKernels kernels = Checks.backend(Op.CONV2D, x).conv();
        if (!kernels.fusesInvertedResidual() || Autograd.needsGrad(x, w1, b1, wd, bd, w2, b2)) {
            Tensor e = conv2dRelu(x, w1, b1, 1, 0, 1);
            Tensor d = conv2dRelu(e, wd, bd, stride, 1, m);
            Tensor y = conv2d(d, w2, b2, 1, 0, 1);
            return residual ? Pointwise.add(x, y) : y;
        }
        Tensor y = Tensor.emptyLike(x, Shape.of(g.n(), k, g.p(), g.q()));
        kernels.invertedResidual(g, Checks.contiguous(x), Checks.contiguous(w1), Checks.contiguous(b1), Checks.contiguous(wd),
                Checks.contiguous(bd), Checks.contiguous(w2), Checks.contiguous(b2), y);
        MacCounter.add(g.macs());
        return y;
    }

    /** The frontend's checks of a convolution; its geometry. */
    private static ConvGeometry geometry(Tensor x, Tensor w, Tensor bias, int strideH, int strideW, int padH, int padW, int groups) {
        String op = "conv2d";
        Checks.rank(op, "input", x, 4, "(N,C,H,W)");
        Checks.rank(op, "weight", w, 4, "(K,C/groups,R,S)");
        Checks.floats(op, x, w, bias);
        int c = x.dim(1), k = w.dim(0);
        check(groups >= 1 && c % groups == 0 && k % groups == 0, op,
                "groups=%d must divide input channels %d and output channels %d (input %s, weight %s)", groups, c, k, x.shape(), w.shape());
        check(w.dim(1) == c / groups, op, "weight %s needs C/groups=%d in dim 1 for input %s with groups=%d", w.shape(), c / groups, x.shape(), groups);
        check(strideH >= 1 && strideW >= 1 && padH >= 0 && padW >= 0, op, "stride (%d,%d) must be >= 1 and padding (%d,%d) >= 0", strideH, strideW, padH, padW);
        if (bias != null) Checks.shape(op, "bias", bias, Shape.of(k));
        ConvGeometry g = ConvGeometry.of(x.dim(0), c, x.dim(2), x.dim(3), k, w.dim(2), w.dim(3), strideH, strideW, padH, padW, groups);
        check(g.p() >= 1 && g.q() >= 1, op, "kernel %dx%d with padding (%d,%d) does not fit input %s", g.r(), g.s(), padH, padW, x.shape());
        return g;
    }

    /** dx of a convolution (for the derivatives table). */
    public static Tensor inputGrad(ConvGeometry g, Tensor dy, Tensor w) {
        Tensor dx = Tensor.emptyLike(dy, Shape.of(g.n(), g.c(), g.h(), g.w()));
        Checks.backend(Op.CONV2D, dy).conv().backwardInput(g, dy, w, dx);
        return dx;
    }

    /**
     * {dx or null, dw or null, dbias or null} of a convolution in one backend call (for the
     * derivatives table); dw is computed whenever dw or dbias is wanted.
     */
    public static Tensor[] grads(ConvGeometry g, Tensor x, Tensor dy, Tensor w, boolean wantX, boolean wantW, boolean wantBias) {
        return grads(g, x, dy, w, wantX, wantW, wantBias, null);
    }

    /**
     * As {@link #grads(ConvGeometry, Tensor, Tensor, Tensor, boolean, boolean, boolean)}, with dx =
     * dxPlus + the input gradient where dxPlus != null (only where {@link #addsToInputGradient}).
     */
    public static Tensor[] grads(ConvGeometry g, Tensor x, Tensor dy, Tensor w, boolean wantX, boolean wantW, boolean wantBias,
                                 Tensor dxPlus) {
        Tensor dx = wantX ? Tensor.emptyLike(dy, Shape.of(g.n(), g.c(), g.h(), g.w())) : null;
        boolean weights = wantW || wantBias;
        Tensor dw = weights ? Tensor.emptyLike(dy, Shape.of(g.k(), g.cPerGroup(), g.r(), g.s())) : null;
        Tensor db = wantBias ? Tensor.emptyLike(dy, Shape.of(g.k())) : null;
        var kernels = Checks.backend(Op.CONV2D, dy).conv();
        if (dxPlus != null) {
            if (!addsToInputGradient(g, dy, dxPlus, wantX, weights)) {
                throw new IllegalStateException("conv2d gradients: this layer cannot add to the input gradient: " + g);
            }
            kernels.backwardAdding(g, x, dy, w, dxPlus, dx, dw, db);
        } else if (dx != null || dw != null) {
            kernels.backward(g, x, dy, w, dx, dw, db);
        }
        return new Tensor[] {dx, wantW ? dw : null, db};
    }

    /**
     * True where {@link #grads(ConvGeometry, Tensor, Tensor, Tensor, boolean, boolean, boolean, Tensor)}
     * adds dxPlus, a gradient already summed for x (laid out as x), in the same pass as both
     * gradients: the backend does so for this layer, and dxPlus is contiguous, of dy's type and device.
     */
    public static boolean addsToInputGradient(ConvGeometry g, Tensor dy, Tensor dxPlus, boolean wantX, boolean wantWeights) {
        return dxPlus != null && wantX && wantWeights && dxPlus.isContiguous() && dxPlus.dtype() == dy.dtype()
                && dxPlus.device().equals(dy.device()) && dxPlus.shape().equals(Shape.of(g.n(), g.c(), g.h(), g.w()))
                && Checks.backend(Op.CONV2D, dy).conv().addsToInputGradient(g);
    }

    /** {dw, dbias or null} of a convolution (for the derivatives table). */
    public static Tensor[] weightGrad(ConvGeometry g, Tensor x, Tensor dy, boolean withBias) {
        Tensor dw = Tensor.emptyLike(dy, Shape.of(g.k(), g.cPerGroup(), g.r(), g.s()));
        Tensor db = withBias ? Tensor.emptyLike(dy, Shape.of(g.k())) : null;
        Checks.backend(Op.CONV2D, dy).conv().backwardWeight(g, x, dy, dw, db);
        return new Tensor[] {dw, db};
    }
}

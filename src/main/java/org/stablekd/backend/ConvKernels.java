package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** 2-D convolution (cross-correlation, as PyTorch). All tensors contiguous NCHW; outputs are overwritten. */
public interface ConvKernels {
    /** y (n,k,p,q) = conv(x (n,c,h,w), w (k,c/g,r,s)) + bias (k) if bias != null. */
    void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y);

    /**
     * y = max(0, conv(x, w) + bias): the forward with a ReLU fused into its epilogue, for inference
     * (a folded conv → BatchNorm → ReLU). Called only where {@link #fusesRelu()} is true.
     */
    default void forwardRelu(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not fuse a ReLU into the convolution");
    }

    /** Whether {@link #forwardRelu} is implemented (else the frontend runs the convolution, then a ReLU). */
    default boolean fusesRelu() {
        return false;
    }

    /**
     * y = max(0, conv(x, w) + bias + r), r (n,k,p,q): the end of a residual block at inference (a
     * folded conv → BatchNorm, plus the shortcut, then ReLU) in one kernel, the same bits as the
     * forward followed by the ADD_RELU pointwise op. Called only where {@link #fusesAddRelu()} is true.
     */
    default void forwardAddRelu(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor r, Tensor y) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not fuse a residual add into the convolution");
    }

    /** Whether {@link #forwardAddRelu} is implemented (else the frontend runs the convolution, then ADD_RELU). */
    default boolean fusesAddRelu() {
        return false;
    }

    /**
     * y = a run of identity residual blocks applied to x at inference, their BatchNorms folded: for
     * each block i, t = max(0, conv(x, w1[i]) + b1[i]), x = max(conv(t, w2[i]) + b2[i] + x, 0), every
     * conv g (3×3, stride 1, pad 1, k = c); x and y (n,c,h,w). The same bits as forwardRelu and
     * forwardAddRelu block by block. Called only where {@link #chainsResidualBlocks} is true.
     */
    default void residualChain(ConvGeometry g, Tensor x, Tensor[] w1, Tensor[] b1, Tensor[] w2, Tensor[] b2, Tensor y) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not chain residual blocks");
    }

    /** Whether {@link #residualChain} is implemented for layers of geometry g (else the frontend runs the blocks one by one). */
    default boolean chainsResidualBlocks(ConvGeometry g) {
        return false;
    }

    /**
     * y (n,c,h,w) = a run of identity residual blocks ({@link ResidualBlockTraining}) applied to x
     * (n,c,h,w) in training, every conv g (3×3, stride 1, pad 1, k = c): batch statistics, the
     * running statistics updated. saved holds {@link ResidualBlockTraining#SAVED} tensors per
     * block, each allocated by the caller: indices 0, 1, 5, 6, 9 (n,h,w,c) activations, 2, 3, 7, 8
     * (c) statistics, 4 (2c); what they hold is the backend's own (only its backward reads them).
     * Called only where {@link #chainsResidualBlocksInTraining} is true.
     */
    default void residualChainTrain(ConvGeometry g, Tensor x, ResidualBlockTraining[] blocks, double eps, Tensor[] saved, Tensor y) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not chain residual blocks in training");
    }

    /**
     * The gradients of {@link #residualChainTrain} for dy (n,c,h,w): dx (null where not wanted)
     * and, per block, {@link ResidualBlockTraining#GRADS} gradients in grads (dw1, dγ1, dβ1, dw2,
     * dγ2, dβ2; all allocated by the caller).
     */
    default void residualChainTrainBackward(ConvGeometry g, Tensor dy, ResidualBlockTraining[] blocks, Tensor[] saved, Tensor dx,
                                            Tensor[] grads) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not chain residual blocks in training");
    }

    /** Whether {@link #residualChainTrain} runs layers of geometry g (else the frontend runs the blocks op by op). */
    default boolean chainsResidualBlocksInTraining(ConvGeometry g) {
        return false;
    }

    /**
     * y (n,k,p,q) = a MobileNetV2 inverted-residual block of x (n,c,h,w) at inference:
     * conv1×1(relu(depthwise3×3(relu(conv1×1(x, w1) + b1), wd, stride) + bd), w2) + b2, plus x
     * if {@code g.residual()}. Weights (m,c,1,1), (m,1,3,3), (k,m,1,1); biases present. Called
     * only where {@link #fusesInvertedResidual()} is true.
     */
    default void invertedResidual(InvertedResidualGeometry g, Tensor x, Tensor w1, Tensor b1, Tensor wd, Tensor bd,
                                  Tensor w2, Tensor b2, Tensor y) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not fuse inverted-residual blocks");
    }

    /** Whether {@link #invertedResidual} is implemented (else the frontend runs the three convolutions). */
    default boolean fusesInvertedResidual() {
        return false;
    }

    /** dx (n,c,h,w) = the gradient of the forward w.r.t. x, given dy (n,k,p,q). */
    void backwardInput(ConvGeometry g, Tensor dy, Tensor w, Tensor dx);

    /** dw (k,c/g,r,s) and, if dbias != null, dbias (k) from x and dy. */
    void backwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias);

    /**
     * Both backwards in one call: dx if not null, and dw (with dbias if not null) if dw is not
     * null. Backends that can share work between the two (one pass over dy) override this.
     */
    default void backward(ConvGeometry g, Tensor x, Tensor dy, Tensor w, Tensor dx, Tensor dw, Tensor dbias) {
        if (dx != null) backwardInput(g, dy, w, dx);
        if (dw != null) backwardWeight(g, x, dy, dw, dbias);
    }

    /**
     * True where {@link #backwardAdding} runs for this layer: both gradients, with dx = dxPlus +
     * the input gradient in the same pass (the autograd's gradient sum where x also feeds a
     * residual branch, one pass over dx less). Shape only. Default: never.
     */
    default boolean addsToInputGradient(ConvGeometry g) {
        return false;
    }

    /**
     * As {@link #backward} with dx and dw both wanted, and dx = dxPlus + the input gradient
     * (dxPlus (n,c,h,w), read only), the bits of backward followed by the add. Only where
     * {@link #addsToInputGradient}.
     */
    default void backwardAdding(ConvGeometry g, Tensor x, Tensor dy, Tensor w, Tensor dxPlus, Tensor dx, Tensor dw, Tensor dbias) {
        throw new UnsupportedOperationException("this backend does not add to the input gradient; check addsToInputGradient first");
    }
}

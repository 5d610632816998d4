package org.stablekd.nn;

import org.stablekd.ops.Conv;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** nn.Conv2d: weight (out, in/groups, k, k), optional bias (out). Initialized by the model. */
public final class Conv2d extends Module {
    public final int in, out, kernel, stride, padding, groups;
    private final Parameter weight;
    private final Parameter bias;

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean withBias) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("Conv2d(" + in + "→" + out + "): groups " + groups + " must divide both channel counts");
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.groups = groups;
        this.weight = param("weight", Tensor.zeros(DType.F32, out, in / groups, kernel, kernel));
        this.bias = withBias ? param("bias", Tensor.zeros(DType.F32, out)) : null;
    }

    public Conv2d(int in, int out, int kernel, int stride, int padding) {
        this(in, out, kernel, stride, padding, 1, false);
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }

    /** PyTorch's fans: fan_out = out·k·k, fan_in = (in/groups)·k·k. */
    public int fanOut() { return out * kernel * kernel; }
    public int fanIn() { return in / groups * kernel * kernel; }

    // Inference only: a BatchNorm folded into this convolution, and the ReLU after it (see BatchNormFolding).
    private Tensor foldedWeight, foldedBias;
    private boolean foldedRelu;

    @Override
    public Tensor forward(Tensor x) {
        Tensor y = foldedWeight == null ? Conv.conv2d(x, weight.value(), bias == null ? null : bias.value(), stride, padding, groups)
                : foldedRelu ? Conv.conv2dRelu(x, foldedWeight, foldedBias, stride, padding, groups)
                : Conv.conv2d(x, foldedWeight, foldedBias, stride, padding, groups);
        BatchNormFolding.noteConvOutput(this, y);
        return y;
    }

    /**
     * relu(bn(this(x)) + r): the end of a residual block. At inference, with bn folded into this
     * convolution (and no ReLU folded with it), one kernel where the backend fuses the add and the
     * ReLU; in training, the convolution, then the batch norm, add and ReLU as one op where the
     * backend fuses them (BatchNorm2d.forwardAddRelu); otherwise the ops one by one. The same bits either way.
     */
    public Tensor forwardBatchNormAddRelu(Tensor x, BatchNorm2d bn, Tensor r) {
        if (foldedWeight != null && !foldedRelu && bn.isFolded()) {
            return Conv.conv2dAddRelu(x, foldedWeight, foldedBias, r, stride, padding, groups);
        }
        return bn.forwardAddRelu(forward(x), r);
    }

    @Override
    void moveExtras(org.stablekd.tensor.Device device) {
        if (foldedWeight != null) foldedWeight = org.stablekd.backend.Transfers.to(foldedWeight, device);
        if (foldedBias != null) foldedBias = org.stablekd.backend.Transfers.to(foldedBias, device);
    }

    void setFolded(Tensor w, Tensor b) {
        this.foldedWeight = w;
        this.foldedBias = b;
        this.foldedRelu = false;
    }

    /** With a folded BatchNorm: also apply the ReLU that followed it (the BatchNorm then passes its input through). */
    void setFoldedRelu(boolean on) {
        this.foldedRelu = on;
    }

    boolean isFolded() {
        return foldedWeight != null;
    }

    /** Inference: the weight with a BatchNorm folded in (see BatchNormFolding), or null if none was. */
    public Tensor foldedWeight() { return foldedWeight; }
    /** Inference: the bias with a BatchNorm folded in, or null if none was. */
    public Tensor foldedBias() { return foldedBias; }
    /** Inference: whether the ReLU after the folded BatchNorm runs in this convolution too. */
    public boolean foldedRelu() { return foldedRelu; }

    /** kaiming_normal_(mode='fan_out', nonlinearity='relu'): N(0, √(2/fan_out)), fan_out = out·k·k. */
    public Conv2d kaimingFanOut(Rng rng) {
        Init.normal(weight.value(), rng, Math.sqrt(2.0 / fanOut()));
        return this;
    }

    /** N(0, std) weights (WRN, MobileNetV2, ShuffleNet use their own std); bias stays 0. */
    public Conv2d normal(Rng rng, double std) {
        Init.normal(weight.value(), rng, std);
        return this;
    }

    /** PyTorch's default Conv2d init: kaiming_uniform(a=√5) → U(±1/√fan_in), bias U(±1/√fan_in). */
    public Conv2d pytorchDefault(Rng rng) {
        double bound = 1 / Math.sqrt(fanIn());
        Init.uniform(weight.value(), rng, -bound, bound);
        if (bias != null) Init.uniform(bias.value(), rng, -bound, bound);
        return this;
    }
}

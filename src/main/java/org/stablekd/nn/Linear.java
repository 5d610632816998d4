package org.stablekd.nn;

import org.stablekd.ops.Dense;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** nn.Linear: weight (out, in), optional bias (out). */
public final class Linear extends Module {
    public final int in, out;
    private final Parameter weight, bias;

    public Linear(int in, int out, boolean withBias) {
        this.in = in;
        this.out = out;
        this.weight = param("weight", Tensor.zeros(DType.F32, out, in));
        this.bias = withBias ? param("bias", Tensor.zeros(DType.F32, out)) : null;
    }

    public Parameter weight() { return weight; }
    public Parameter bias() { return bias; }

    @Override
    public Tensor forward(Tensor x) {
        return Dense.linear(x, weight.value(), bias == null ? null : bias.value());
    }

    /** PyTorch's default init: weight and bias U(±1/√in). */
    public Linear pytorchDefault(Rng rng) {
        double bound = 1 / Math.sqrt(in);
        Init.uniform(weight.value(), rng, -bound, bound);
        if (bias != null) Init.uniform(bias.value(), rng, -bound, bound);
        return this;
    }
}

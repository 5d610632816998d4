package org.stablekd.models;

import org.stablekd.nn.Module;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.Tensor;

/**
 * nn.ReLU as a parameterless member of a {@link org.stablekd.nn.Sequential}: it holds an index
 * there ("conv.2") so the following layers keep PyTorch's numbering ("conv.3.weight").
 */
final class Relu extends Module {
    @Override
    public Tensor forward(Tensor x) {
        return Pointwise.relu(x);
    }
}

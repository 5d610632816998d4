package org.stablekd.autograd;

import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.ops.Attrs;
import org.stablekd.ops.Conv;
import org.stablekd.ops.Dense;
import org.stablekd.ops.Distill;
import org.stablekd.ops.Layout;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Memory;
import org.stablekd.ops.Norm;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Tensor;

/**
 * The derivatives table: for each op, the gradients of its inputs given the gradient g of its
 * output. One exhaustive switch over {@link Op}: a new op without a rule here does not compile.
 * A rule computes only the gradients {@link Node#needs} asks for and returns null for the others.
 * Rules run under noGrad (no double backward).
 */
final class Derivatives {
    private Derivatives() {}

    /**
     * pending[i]: the gradient summed so far for input i from its other uses (null if none). A
     * rule may fold it into input i's gradient in the same pass (one pass over the tensor less than
     * adding it afterwards); it then clears pending[i], and the autograd takes the result as the
     * whole sum.
     */
    static Tensor[] backward(Node n, Tensor g, Tensor[] pending) {
        return switch (n.op()) {
            case CONV2D -> {
                // inputs: x, w, bias?; both gradients in one backend call (it may share the pass over g), and where
                // the backend can, x's pending sum (the residual branch's gradient) added into dx in the same pass
                ConvGeometry geo = (ConvGeometry) n.attrs();
                Tensor plus = Conv.addsToInputGradient(geo, g, pending[0], n.needs(0), n.needs(1) || n.needs(2)) ? pending[0] : null;
                if (plus != null) pending[0] = null;
                yield Conv.grads(geo, n.input(0), g, n.input(1), n.needs(0), n.needs(1), n.needs(2), plus);
            }
            // identity residual blocks in training, one node: the backend's backward through its own saved activations
            case RESIDUAL_CHAIN -> {
                boolean[] wanted = new boolean[n.inputCount()];
                for (int i = 0; i < wanted.length; i++) wanted[i] = n.needs(i);
                Tensor[] saved = new Tensor[((Attrs.ResidualChain) n.attrs()).blocks().length * ResidualBlockTraining.SAVED];
                for (int i = 0; i < saved.length; i++) saved[i] = n.saved(i);
                yield Conv.residualChainGrads((Attrs.ResidualChain) n.attrs(), g, saved, wanted);
            }
            // y = x·wᵀ + b:  dx = g·w,  dw = gᵀ·x,  db = Σ_rows g
            case LINEAR -> Dense.grads(n.input(0), n.input(1), g, n.needs(0), n.needs(1), n.needs(2));
            case BATCH_NORM -> {
                var a = (Attrs.BatchNorm) n.attrs();
                if (a.addRelu()) {
                    // y = relu(bn(x) + r), saved(2) = y: d = g where y > 0 is r's gradient and the batch norm's dy
                    Tensor d = Pointwise.activationGrad(Op.ADD_RELU, n.saved(2), g);
                    Tensor[] bn = n.needs(0) || n.needs(1) || n.needs(2)
                            ? Norm.grads(n.input(0), d, n.input(1), n.saved(0), n.saved(1), null, null, a.training(),
                                    n.needs(0), n.needs(1), n.needs(2))
                            : new Tensor[3];
                    yield new Tensor[] {bn[0], bn[1], bn[2], n.needs(3) ? d : null};
                }
                // relu fused: saved(2) is the output (the ReLU's mask), saved(3) the forward's scale and shift
                yield Norm.grads(n.input(0), g, n.input(1), n.saved(0), n.saved(1), a.relu() ? n.saved(2) : null,
                        a.relu() ? n.saved(3) : null, a.training(), n.needs(0), n.needs(1), n.needs(2));
            }
            // saved: the global mean and 1/σ; the rule all-reduces Σdy, Σdy·(x − μ) through the recorded group
            case SYNC_BATCH_NORM -> Norm.syncGrads(n.input(0), g, n.input(1), n.saved(0), n.saved(1), (Attrs.SyncBatchNorm) n.attrs(),
                    n.needs(0), n.needs(1), n.needs(2));
            case RELU -> new Tensor[] {Pointwise.activationGrad(Op.RELU, n.saved(0), g)};
            case RELU6 -> new Tensor[] {Pointwise.activationGrad(Op.RELU6, n.input(0), g)};
            case ADD -> new Tensor[] {g, g};
            case SUB -> new Tensor[] {g, n.needs(1) ? Pointwise.scaleRaw(g, -1) : null};
            case MUL -> new Tensor[] {
                n.needs(0) ? Pointwise.mulRaw(g, n.input(1)) : null,
                n.needs(1) ? Pointwise.mulRaw(g, n.input(0)) : null};
            case SCALE -> new Tensor[] {Pointwise.scaleRaw(g, ((Attrs.Scalar) n.attrs()).value())};
            case ADD_SCALAR -> new Tensor[] {g};
            case ADD_RELU -> {
                Tensor d = Pointwise.activationGrad(Op.ADD_RELU, n.saved(0), g);
                yield new Tensor[] {d, d};
            }
            case RESHAPE -> new Tensor[] {g.viewAs(((Attrs.Reshape) n.attrs()).inputShape().dims())};
            case CONCAT -> {
                int[] channels = new int[n.inputCount()];
                boolean[] wanted = new boolean[n.inputCount()];
                for (int i = 0; i < channels.length; i++) {
                    channels[i] = n.input(i).dim(1);
                    wanted[i] = n.needs(i);
                }
                yield Layout.concatGrads(g, channels, wanted);
            }
            case NARROW -> {
                var a = (Attrs.Narrow) n.attrs();
                yield new Tensor[] {Layout.narrowGrad(g, n.input(0).shape(), a.dim(), a.start(), a.length())};
            }
            case CHANNEL_SHUFFLE -> new Tensor[] {Layout.shuffleGrad(g, ((Attrs.Shuffle) n.attrs()).groups())};
            case MAX_POOL2D -> new Tensor[] {Pool.maxGrad((PoolGeometry) n.attrs(), g, n.saved(0))};
            case AVG_POOL2D -> new Tensor[] {Pool.avgGrad((PoolGeometry) n.attrs(), g)};
            case GLOBAL_AVG_POOL -> new Tensor[] {Pool.globalAvgGrad(g, n.input(0).shape())};
            case SOFTMAX, LOG_SOFTMAX -> new Tensor[] {
                Losses.softmaxGrad(n.saved(0), g, ((Attrs.Softmax) n.attrs()).temperature(), n.op() == Op.LOG_SOFTMAX)};
            case CROSS_ENTROPY -> new Tensor[] {
                Losses.crossEntropyGrad(n.input(0), n.input(1), ((Attrs.CrossEntropy) n.attrs()).labelSmoothing(), g), null};
            case KD_LOSS -> Losses.kdGrads(n.input(0), n.input(1), ((Attrs.Kd) n.attrs()).tau(), g, n.needs(0), n.needs(1));
            // inputs: student, teacher (frozen: the frontend rejects one that requires a gradient), labels
            case KD_CE_LOSS -> new Tensor[] {
                Losses.kdCrossEntropyGrad(n.input(0), n.input(1), n.input(2), (Attrs.KdCe) n.attrs(), g), null, null};
            case MSE_LOSS -> Losses.mseGrads(n.input(0), n.input(1), g, n.needs(0), n.needs(1));
            // inputs: student, teacher (frozen: the frontend rejects one that requires a gradient), labels
            case DKD_LOSS -> new Tensor[] {
                Distill.dkdGrad(n.input(0), n.input(1), n.input(2), (Attrs.Dkd) n.attrs(), g), null, null};
            case ATTENTION_MAP -> new Tensor[] {Distill.attentionMapGrad(n.input(0), n.saved(0), g)};
            case SUM -> new Tensor[] {Memory.broadcastScalar(g, 1, n.input(0))};
            case MEAN -> new Tensor[] {Memory.broadcastScalar(g, 1.0 / n.input(0).numel(), n.input(0))};
            case COPY, FILL, SGD_STEP, TOPK_HITS -> throw new IllegalStateException(n.opName() + " writes into a tensor it is given and is never recorded");
        };
    }
}

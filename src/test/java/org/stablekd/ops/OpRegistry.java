package org.stablekd.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.backend.ResidualBlockTraining;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * One entry per op case; the generated suites ({@link CpuVsRefTest}, {@link GradCheckTest},
 * {@link OpCoverageTest}) run every entry. Shapes are odd on purpose so vector loops have tails.
 * Add a case here when you add an op: the coverage test fails for an op without one. Ops that are
 * never recorded (copies, fills, optimizer steps) have their cases in {@link #unrecorded()}:
 * forward only, on the backend under test, against ref.
 */
public final class OpRegistry {
    private OpRegistry() {}

    /** How an input's values are drawn. */
    public enum Kind {
        /** N(0, 1). */
        NORMAL,
        /** ±U(0.1, 3): away from the kinks of relu (0) and relu6 (0 and 6). */
        AWAY_FROM_KINKS,
        /** U(0.5, 1.5): variances, scales. */
        POSITIVE,
        /** I32 labels in [0, classes). */
        LABELS
    }

    /** One input: its shape, how it is drawn, and whether its gradient is checked. */
    public record In(int[] shape, Kind kind, boolean differentiable, int classes) {}

    /** A case: the op under test, a name, its inputs, and how to call it. */
    public record Case(String name, Op op, List<In> inputs, Function<Tensor[], Tensor> call) {
        @Override
        public String toString() {
            return name;
        }

        /** Fresh inputs, the same values for the same seed whatever the dtype (drawn as floats). */
        public Tensor[] make(DType dtype, long seed) {
            Rng rng = new Rng(seed);
            Tensor[] ts = new Tensor[inputs.size()];
            for (int i = 0; i < ts.length; i++) {
                In in = inputs.get(i);
                if (in.kind() == Kind.LABELS) {
                    Tensor t = Tensor.empty(DType.I32, in.shape());
                    for (long e = 0; e < t.numel(); e++) t.setFlat(e, rng.nextInt(in.classes()));
                    ts[i] = t;
                    continue;
                }
                Tensor t = Tensor.empty(dtype, in.shape());
                for (long e = 0; e < t.numel(); e++) {
                    double v = switch (in.kind()) {
                        case NORMAL -> rng.nextGaussian();
                        case AWAY_FROM_KINKS -> (rng.nextDouble() < 0.5 ? -1 : 1) * (0.1 + 2.9 * rng.nextDouble());
                        case POSITIVE -> 0.5 + rng.nextDouble();
                        case LABELS -> throw new AssertionError();
                    };
                    t.setFlat(e, (float) v);
                }
                ts[i] = t;
            }
            return ts;
        }
    }

    private static In x(int... shape) { return new In(shape, Kind.NORMAL, true, 0); }
    private static In kinked(int... shape) { return new In(shape, Kind.AWAY_FROM_KINKS, true, 0); }
    private static In positive(int... shape) { return new In(shape, Kind.POSITIVE, true, 0); }
    /** Not differentiated (running statistics). */
    private static In state(Kind kind, int... shape) { return new In(shape, kind, false, 0); }
    private static In labels(int n, int classes) { return new In(new int[] {n}, Kind.LABELS, false, classes); }

    /** A copy of teacher logits with each row's label logit raised by {@code margin} (not recorded: the teacher is frozen). */
    static Tensor confident(Tensor teacher, Tensor labels, double margin) {
        Tensor t = Tensor.emptyLike(teacher);
        int classes = teacher.dim(1);
        for (long e = 0; e < t.numel(); e++) t.setFlat(e, teacher.getFlat(e));
        for (int i = 0; i < teacher.dim(0); i++) {
            long e = (long) i * classes + (int) labels.getFlat(i);
            t.setFlat(e, teacher.getFlat(e) + margin);
        }
        return t;
    }

    private static Case c(String name, Op op, Function<Tensor[], Tensor> call, In... inputs) {
        return new Case(name, op, List.of(inputs), call);
    }

    public static List<Case> all() {
        List<Case> cs = new ArrayList<>();
        // ---- convolution
        cs.add(c("conv2d 3x3 s1 p1 bias", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], t[2], 1, 1, 1), x(2, 3, 7, 9), x(5, 3, 3, 3), x(5)));
        cs.add(c("conv2d 3x3 s2 p1", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 2, 1, 1), x(2, 4, 9, 8), x(6, 4, 3, 3)));
        cs.add(c("conv2d 3x3 wide rows (vector tails)", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 1, 1), x(2, 3, 5, 37), x(4, 3, 3, 3)));
        cs.add(c("conv2d 3x3 16->16 32x32", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 1, 1), x(1, 16, 12, 19), x(16, 16, 3, 3)));
        cs.add(c("conv2d 1x1", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 0, 1), x(3, 8, 5, 6), x(7, 8, 1, 1)));
        cs.add(c("conv2d 1x1 s2 bias", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], t[2], 2, 0, 1), x(2, 6, 7, 7), x(4, 6, 1, 1), x(4)));
        cs.add(c("conv2d groups=2 3x3", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 1, 2), x(2, 4, 6, 5), x(6, 2, 3, 3)));
        cs.add(c("conv2d groups=3 1x1", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 0, 3), x(1, 6, 5, 5), x(9, 2, 1, 1)));
        cs.add(c("conv2d depthwise 3x3 s1", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 1, 5), x(2, 5, 8, 7), x(5, 1, 3, 3)));
        cs.add(c("conv2d depthwise 3x3 s2 bias", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], t[2], 2, 1, 5), x(2, 5, 9, 8), x(5, 1, 3, 3), x(5)));
        cs.add(c("conv2d 7x7 s2 p3", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 2, 3, 1), x(1, 3, 19, 17), x(4, 3, 7, 7)));
        cs.add(c("conv2d 3x1 rect pad", Op.CONV2D, t -> Conv.conv2d(t[0], t[1], null, 1, 2, 1, 0, 1), x(2, 3, 6, 5), x(2, 3, 3, 1)));
        // ---- identity residual blocks in training (one op where the backend chains them; the ref defines it as the ops it stands for)
        cs.add(c("residual chain train 2 blocks 16ch", Op.RESIDUAL_CHAIN, t -> Conv.residualChainTrain(t[0], new ResidualBlockTraining[] {
                    new ResidualBlockTraining(t[1], t[2], t[3], t[13], t[14], 0.1, t[4], t[5], t[6], t[15], t[16], 0.1),
                    new ResidualBlockTraining(t[7], t[8], t[9], t[17], t[18], 0.1, t[10], t[11], t[12], t[19], t[20], 0.1)}, 1e-5),
                x(2, 16, 5, 7), x(16, 16, 3, 3), positive(16), x(16), x(16, 16, 3, 3), positive(16), x(16),
                x(16, 16, 3, 3), positive(16), x(16), x(16, 16, 3, 3), positive(16), x(16),
                state(Kind.NORMAL, 16), state(Kind.POSITIVE, 16), state(Kind.NORMAL, 16), state(Kind.POSITIVE, 16),
                state(Kind.NORMAL, 16), state(Kind.POSITIVE, 16), state(Kind.NORMAL, 16), state(Kind.POSITIVE, 16)));
        cs.add(c("residual chain train 1 block 32ch", Op.RESIDUAL_CHAIN, t -> Conv.residualChainTrain(t[0], new ResidualBlockTraining[] {
                    new ResidualBlockTraining(t[1], t[2], t[3], t[7], t[8], 0.1, t[4], t[5], t[6], t[9], t[10], 0.1)}, 1e-5),
                x(3, 32, 6, 4), x(32, 32, 3, 3), positive(32), x(32), x(32, 32, 3, 3), positive(32), x(32),
                state(Kind.NORMAL, 32), state(Kind.POSITIVE, 32), state(Kind.NORMAL, 32), state(Kind.POSITIVE, 32)));
        // ---- linear
        cs.add(c("linear bias", Op.LINEAR, t -> Dense.linear(t[0], t[1], t[2]), x(5, 19), x(7, 19), x(7)));
        cs.add(c("linear no bias, wide", Op.LINEAR, t -> Dense.linear(t[0], t[1], null), x(3, 33), x(17, 33)));
        // ---- batch norm
        cs.add(c("batch_norm train", Op.BATCH_NORM,
                t -> Norm.batchNorm(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5),
                x(3, 4, 5, 6), positive(4), x(4), state(Kind.NORMAL, 4), state(Kind.POSITIVE, 4)));
        cs.add(c("batch_norm train odd plane", Op.BATCH_NORM,
                t -> Norm.batchNorm(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5),
                x(2, 3, 7, 5), positive(3), x(3), state(Kind.NORMAL, 3), state(Kind.POSITIVE, 3)));
        cs.add(c("batch_norm eval", Op.BATCH_NORM,
                t -> Norm.batchNorm(t[0], t[1], t[2], t[3], t[4], false, 0.1, 1e-5),
                x(2, 5, 3, 7), positive(5), x(5), state(Kind.NORMAL, 5), state(Kind.POSITIVE, 5)));
        // batch norm with the relu fused in (one op on backends that fuse it; the ref defines it as the composition)
        cs.add(c("batch_norm+relu train", Op.BATCH_NORM,
                t -> Norm.batchNormRelu(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5),
                x(3, 4, 5, 6), positive(4), x(4), state(Kind.NORMAL, 4), state(Kind.POSITIVE, 4)));
        cs.add(c("batch_norm+relu train odd plane", Op.BATCH_NORM,
                t -> Norm.batchNormRelu(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5),
                x(2, 3, 7, 5), positive(3), x(3), state(Kind.NORMAL, 3), state(Kind.POSITIVE, 3)));
        cs.add(c("batch_norm+relu eval", Op.BATCH_NORM,
                t -> Norm.batchNormRelu(t[0], t[1], t[2], t[3], t[4], false, 0.1, 1e-5),
                x(2, 5, 3, 7), positive(5), x(5), state(Kind.NORMAL, 5), state(Kind.POSITIVE, 5)));
        // batch norm, residual add and relu fused (one op in training on backends that fuse it; the ref defines it as the composition)
        cs.add(c("batch_norm+add+relu train", Op.BATCH_NORM,
                t -> Norm.batchNormAddRelu(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5, t[5]),
                x(3, 4, 5, 6), positive(4), x(4), state(Kind.NORMAL, 4), state(Kind.POSITIVE, 4), x(3, 4, 5, 6)));
        cs.add(c("batch_norm+add+relu train odd plane", Op.BATCH_NORM,
                t -> Norm.batchNormAddRelu(t[0], t[1], t[2], t[3], t[4], true, 0.1, 1e-5, t[5]),
                x(2, 3, 7, 5), positive(3), x(3), state(Kind.NORMAL, 3), state(Kind.POSITIVE, 3), x(2, 3, 7, 5)));
        // in eval the frontend runs the two ops, so the add-ReLU is what it records
        cs.add(c("batch_norm+add+relu eval", Op.ADD_RELU,
                t -> Norm.batchNormAddRelu(t[0], t[1], t[2], t[3], t[4], false, 0.1, 1e-5, t[5]),
                x(2, 5, 3, 7), positive(5), x(5), state(Kind.NORMAL, 5), state(Kind.POSITIVE, 5), x(2, 5, 3, 7)));
        // synchronized batch norm: alone (the gather is this rank's row), and as rank 1 of 2 beside a
        // peer whose statistics are fixed and whose dy is zero (so finite differences of this rank's
        // output see exactly what the analytic rule computes: the global statistics move with x)
        cs.add(c("sync_batch_norm one rank", Op.SYNC_BATCH_NORM,
                t -> Norm.syncBatchNorm(t[0], t[1], t[2], t[3], t[4], 0.1, 1e-5, ReduceGroup.SINGLE),
                x(3, 4, 5, 6), positive(4), x(4), state(Kind.NORMAL, 4), state(Kind.POSITIVE, 4)));
        cs.add(c("sync_batch_norm rank 1 of 2, fixed peer", Op.SYNC_BATCH_NORM,
                t -> Norm.syncBatchNorm(t[0], t[1], t[2], t[3], t[4], 0.1, 1e-5, new FixedPeer(3)),
                x(2, 3, 7, 5), positive(3), x(3), state(Kind.NORMAL, 3), state(Kind.POSITIVE, 3)));
        // ---- pointwise
        cs.add(c("relu", Op.RELU, t -> Pointwise.relu(t[0]), kinked(2, 3, 5, 7)));
        cs.add(c("relu 1-d tail", Op.RELU, t -> Pointwise.relu(t[0]), kinked(37)));
        cs.add(c("relu6", Op.RELU6, t -> Pointwise.relu6(Pointwise.scale(t[0], 2.5)), kinked(3, 4, 5, 3)));
        cs.add(c("add", Op.ADD, t -> Pointwise.add(t[0], t[1]), x(2, 3, 5, 7), x(2, 3, 5, 7)));
        cs.add(c("add same input twice", Op.ADD, t -> Pointwise.add(t[0], t[0]), x(41)));
        cs.add(c("sub", Op.SUB, t -> Pointwise.sub(t[0], t[1]), x(3, 17), x(3, 17)));
        cs.add(c("mul", Op.MUL, t -> Pointwise.mul(t[0], t[1]), x(2, 3, 5, 7), x(2, 3, 5, 7)));
        cs.add(c("scale", Op.SCALE, t -> Pointwise.scale(t[0], -1.75), x(4, 19)));
        cs.add(c("add_scalar", Op.ADD_SCALAR, t -> Pointwise.addScalar(t[0], 0.3), x(4, 19)));
        cs.add(c("add_relu", Op.ADD_RELU, t -> Pointwise.addRelu(t[0], Pointwise.scale(t[1], 1e-3)), kinked(2, 3, 5, 7), x(2, 3, 5, 7)));
        // ---- layout
        cs.add(c("reshape", Op.RESHAPE, t -> Layout.reshape(t[0], 6, -1), x(2, 3, 4, 5)));
        cs.add(c("flatten", Op.RESHAPE, t -> Layout.flatten(t[0]), x(3, 4, 2, 2)));
        cs.add(c("concat 3 inputs", Op.CONCAT, t -> Layout.concat(t[0], t[1], t[2]), x(2, 3, 4, 5), x(2, 2, 4, 5), x(2, 4, 4, 5)));
        cs.add(c("narrow channels", Op.NARROW, t -> Layout.narrow(t[0], 1, 2, 3), x(2, 7, 3, 4)));
        cs.add(c("narrow batch", Op.NARROW, t -> Layout.narrow(t[0], 0, 1, 2), x(4, 3, 2, 5)));
        cs.add(c("chunk 2 (second half)", Op.NARROW, t -> Layout.chunk(t[0], 2)[1], x(2, 6, 3, 3)));
        cs.add(c("channel_shuffle g=3", Op.CHANNEL_SHUFFLE, t -> Layout.channelShuffle(t[0], 3), x(2, 6, 3, 4)));
        cs.add(c("channel_shuffle g=2", Op.CHANNEL_SHUFFLE, t -> Layout.channelShuffle(t[0], 2), x(1, 10, 5, 3)));
        // ---- pooling
        cs.add(c("max_pool2d k3 s2 p1", Op.MAX_POOL2D, t -> Pool.maxPool2d(t[0], 3, 2, 1, false), x(2, 3, 9, 8)));
        cs.add(c("max_pool2d k3 s2 ceil", Op.MAX_POOL2D, t -> Pool.maxPool2d(t[0], 3, 2, 0, true), x(1, 2, 8, 8)));
        cs.add(c("max_pool2d k2 s2", Op.MAX_POOL2D, t -> Pool.maxPool2d(t[0], 2, 2, 0, false), x(2, 3, 6, 10)));
        cs.add(c("avg_pool2d k2 s2", Op.AVG_POOL2D, t -> Pool.avgPool2d(t[0], 2, 2, 0, false), x(2, 3, 6, 7)));
        cs.add(c("avg_pool2d k3 s2 p1 ceil", Op.AVG_POOL2D, t -> Pool.avgPool2d(t[0], 3, 2, 1, true), x(1, 2, 8, 7)));
        cs.add(c("global_avg_pool", Op.GLOBAL_AVG_POOL, t -> Pool.globalAvgPool(t[0]), x(3, 5, 4, 6)));
        cs.add(c("global_avg_pool planes under a vector", Op.GLOBAL_AVG_POOL, t -> Pool.globalAvgPool(t[0]), x(2, 37, 2, 2)));
        cs.add(c("avg_pool2d whole 3x3 planes", Op.AVG_POOL2D, t -> Pool.avgPool2d(t[0], 3, 3, 0, true), x(3, 7, 3, 3)));
        // ---- softmax and losses
        cs.add(c("softmax T=1", Op.SOFTMAX, t -> Losses.softmax(t[0], 1), x(4, 11)));
        cs.add(c("softmax T=4", Op.SOFTMAX, t -> Losses.softmax(t[0], 4), x(3, 37)));
        cs.add(c("log_softmax T=4", Op.LOG_SOFTMAX, t -> Losses.logSoftmax(t[0], 4), x(5, 19)));
        cs.add(c("cross_entropy", Op.CROSS_ENTROPY, t -> Losses.crossEntropy(t[0], t[1]), x(6, 10), labels(6, 10)));
        cs.add(c("cross_entropy smoothing 0.1", Op.CROSS_ENTROPY, t -> Losses.crossEntropy(t[0], t[1], 0.1), x(7, 23), labels(7, 23)));
        cs.add(c("kd_loss tau=4", Op.KD_LOSS, t -> Losses.kdLoss(t[0], t[1], 4), x(6, 10), x(6, 10)));
        cs.add(c("kd_loss tau=1 wide", Op.KD_LOSS, t -> Losses.kdLoss(t[0], t[1], 1), x(3, 37), x(3, 37)));
        // KD + CE in one op (the teacher logits are frozen: not differentiable)
        cs.add(c("kd_ce_loss tau=4 0.1/0.9", Op.KD_CE_LOSS, t -> Losses.kdCrossEntropy(t[0], t[1], t[2], 4, 0.1, 0.9),
                x(6, 10), state(Kind.NORMAL, 6, 10), labels(6, 10)));
        cs.add(c("kd_ce_loss tau=1 0.5/0.5 wide", Op.KD_CE_LOSS, t -> Losses.kdCrossEntropy(t[0], t[1], t[2], 1, 0.5, 0.5),
                x(5, 37), state(Kind.NORMAL, 5, 37), labels(5, 37)));
        cs.add(c("kd_ce_loss confident teacher", Op.KD_CE_LOSS, t -> Losses.kdCrossEntropy(t[0], confident(t[1], t[2], 40), t[2], 4, 0.1, 0.9),
                x(4, 19), state(Kind.NORMAL, 4, 19), labels(4, 19)));
        cs.add(c("mse_loss", Op.MSE_LOSS, t -> Losses.mse(t[0], t[1]), x(3, 4, 5), x(3, 4, 5)));
        // ---- distillation (the teacher logits are frozen: not differentiable)
        cs.add(c("dkd_loss a=1 b=8 tau=4", Op.DKD_LOSS, t -> Distill.dkdLoss(t[0], t[1], t[2], 1, 8, 4),
                x(6, 10), state(Kind.NORMAL, 6, 10), labels(6, 10)));
        cs.add(c("dkd_loss a=0.5 b=2 tau=1 wide", Op.DKD_LOSS, t -> Distill.dkdLoss(t[0], t[1], t[2], 0.5, 2, 1),
                x(5, 37), state(Kind.NORMAL, 5, 37), labels(5, 37)));
        cs.add(c("dkd_loss confident teacher", Op.DKD_LOSS, t -> Distill.dkdLoss(t[0], confident(t[1], t[2], 40), t[2], 1, 8, 4),
                x(4, 19), state(Kind.NORMAL, 4, 19), labels(4, 19)));
        cs.add(c("dkd_loss 2 classes", Op.DKD_LOSS, t -> Distill.dkdLoss(t[0], t[1], t[2], 1, 8, 2),
                x(5, 2), state(Kind.NORMAL, 5, 2), labels(5, 2)));
        cs.add(c("attention_map", Op.ATTENTION_MAP, t -> Distill.attentionMap(t[0]), x(2, 3, 5, 7)));
        cs.add(c("attention_map wide plane", Op.ATTENTION_MAP, t -> Distill.attentionMap(t[0]), x(2, 2, 9, 11)));
        cs.add(c("attention_map plane over one block", Op.ATTENTION_MAP, t -> Distill.attentionMap(t[0]), x(1, 2, 33, 33)));
        cs.add(c("attention_map 1x1 plane", Op.ATTENTION_MAP, t -> Distill.attentionMap(t[0]), x(3, 4, 1, 1)));
        // ---- reductions
        cs.add(c("sum", Op.SUM, t -> Reduce.sum(t[0]), x(3, 4, 7)));
        cs.add(c("mean", Op.MEAN, t -> Reduce.mean(t[0]), x(5, 13)));
        return cs;
    }

    /** A contiguous copy of src (Op.COPY), which may be any view. */
    private static Tensor copyOf(Tensor src) {
        Tensor y = Tensor.emptyLike(src, src.shape());
        Memory.copy(src, y);
        return y;
    }

    /**
     * Cases of the ops that are never recorded: no inputs are differentiable; the call returns
     * what the op wrote (in-place state shows in the inputs after the op). Strided sources are
     * made inside the call.
     */
    public static List<Case> unrecorded() {
        List<Case> cs = new ArrayList<>();
        cs.add(c("copy contiguous", Op.COPY, t -> copyOf(t[0]), state(Kind.NORMAL, 3, 37)));
        cs.add(c("copy permuted view", Op.COPY, t -> copyOf(t[0].permuteView(0, 2, 1)), state(Kind.NORMAL, 3, 17, 5)));
        cs.add(c("copy narrowed rows", Op.COPY, t -> copyOf(t[0].narrowView(2, 1, 9)), state(Kind.NORMAL, 2, 3, 11)));
        cs.add(c("copy broadcast (expanded view)", Op.COPY, t -> copyOf(t[0].viewAs(1, 7).expandView(5, 7)), state(Kind.NORMAL, 7)));
        cs.add(c("copy into a channel slice", Op.COPY, t -> {
            Tensor y = Tensor.emptyLike(t[0], t[0].shape().with(1, 5));
            Memory.fill(y, 0);
            Memory.copy(t[0], y.narrowView(1, 1, 3));
            return y;
        }, state(Kind.NORMAL, 2, 3, 4, 5)));
        cs.add(c("fill", Op.FILL, t -> {
            Tensor y = Tensor.emptyLike(t[0]);
            Memory.fill(y, -1.25);
            return y;
        }, state(Kind.NORMAL, 3, 41)));
        cs.add(c("fill from a one-element tensor", Op.FILL, t -> Memory.broadcastScalar(t[0], 0.37, t[1]),
                state(Kind.NORMAL, 1), state(Kind.NORMAL, 5, 19)));
        cs.add(c("topk_hits", Op.TOPK_HITS, t -> Reduce.topkHits(t[0], t[1], 3), state(Kind.NORMAL, 37, 10), labels(37, 10)));
        for (boolean nesterov : new boolean[] {false, true}) {
            cs.add(c("sgd_step" + (nesterov ? " nesterov" : ""), Op.SGD_STEP, t -> {
                Backends.select(Op.SGD_STEP, t[0].dtype(), t[0].device()).optimizer().sgd(t[0], t[1], t[2], 0.05, 0.9, 5e-4, nesterov);
                return t[0];
            }, state(Kind.NORMAL, 1003), state(Kind.NORMAL, 1003), state(Kind.NORMAL, 1003)));
        }
        return cs;
    }

    /**
     * Rank 1 of 2 whose peer (rank 0) holds 37 values per channel with mean 0.5 + 0.25·ch and
     * variance 1.5 (its row added in the forward's gather) and contributes zero to the backward's
     * sums (its dy is zero).
     */
    record FixedPeer(int channels) implements ReduceGroup {
        @Override public int rank() { return 1; }
        @Override public int size() { return 2; }

        @Override
        public void allreduceSum(Tensor t) {
            if (t.rank() != 2) return;   // Σdy, Σdy·(x − μ): the peer adds zeros
            int c = channels;
            t.setFlat(0, t.getFlat(0) + 37);
            for (int ch = 0; ch < c; ch++) {
                t.setFlat(1 + ch, t.getFlat(1 + ch) + 0.5 + 0.25 * ch);
                t.setFlat(1 + 2 * c + ch, t.getFlat(1 + 2 * c + ch) + 37 * 1.5);
            }
        }
    }
}

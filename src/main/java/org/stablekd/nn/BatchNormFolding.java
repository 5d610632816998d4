package org.stablekd.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.autograd.Autograd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Folds eval-mode BatchNorms into the convolutions that feed them, for inference:
 * BN(conv(x)) = (W·x + b − μ)·s + β with s = γ/√(σ²+ε), so W' = W·s (per output channel) and
 * b' = (b − μ)·s + β, and the BatchNorm becomes the identity. A BatchNorm with a fused ReLU
 * ({@code forwardRelu}) hands its ReLU to the convolution too ({@code Conv.conv2dRelu}: the ReLU
 * runs in the convolution's epilogue where the backend fuses it).
 *
 * <p>Which BN follows which conv is found by tracing one forward: a BN whose input tensor is
 * exactly a conv's output is a candidate. A conv output that something else also reads must not
 * be folded (a WRN stem's output feeds both the first block's BN and its identity shortcut), and
 * a trace cannot see functional readers, so every fold is checked on its own: the model must still
 * give the unfolded logits on a probe batch, else that pair is unfolded again.
 */
public final class BatchNormFolding {
    private static final ThreadLocal<Trace> TRACE = new ThreadLocal<>();

    private BatchNormFolding() {}

    /** What one traced forward saw. */
    private static final class Trace {
        final Map<Tensor, Conv2d> producers = new IdentityHashMap<>();
        final List<Conv2d> convs = new ArrayList<>();
        final List<BatchNorm2d> bns = new ArrayList<>();
        /** Whether each BatchNorm applied a ReLU (forwardRelu). */
        final List<Boolean> relus = new ArrayList<>();
    }

    static void noteConvOutput(Conv2d conv, Tensor y) {
        Trace t = TRACE.get();
        if (t != null) t.producers.put(y, conv);
    }

    static void noteBatchNormInput(BatchNorm2d bn, Tensor x, boolean relu) {
        Trace t = TRACE.get();
        if (t == null) return;
        Conv2d c = t.producers.get(x);
        if (c != null && !t.bns.contains(bn) && !t.convs.contains(c)) {
            t.convs.add(c);
            t.bns.add(bn);
            t.relus.add(relu);
        }
    }

    /**
     * Puts {@code model} in eval mode and folds every conv→BN pair. Returns how many were folded
     * by this call (pairs folded by an earlier call are left as they are). The model must not
     * train afterwards (a folded BN refuses to); its parameters and state dict are unchanged
     * (the folded weights are separate tensors).
     */
    public static int fold(Model model) {
        // the fold reads and writes weights on the host: a model on a device (a teacher shared by
        // several runs, a Predictor moved before) comes back for it and returns, folded weights too
        org.stablekd.tensor.Device device = model.device();
        if (!device.isHost()) {
            model.to(org.stablekd.tensor.Device.CPU);
            try {
                return fold(model);
            } finally {
                model.to(device);
            }
        }
        model.eval();
        Shape in = model.inputShape();
        Tensor probe;
        try (Restore unscoped = Scope.suspend()) {
            probe = Tensor.randn(new org.stablekd.tensor.Rng(1234), DType.F32, 1, 2, in.dim(0), in.dim(1), in.dim(2));
        }
        Trace trace = new Trace();
        float[] before;
        TRACE.set(trace);
        try {
            before = logits(model, probe);
        } finally {
            TRACE.remove();
        }
        int folded = 0;
        for (int i = 0; i < trace.convs.size(); i++) {
            Conv2d c = trace.convs.get(i);
            BatchNorm2d bn = trace.bns.get(i);
            if (c.isFolded()) continue;   // folded before: fold is idempotent
            foldPair(c, bn);
            if (sameLogits(before, logits(model, probe))) {
                folded++;
                if (trace.relus.get(i)) foldRelu(model, probe, before, c, bn);
            } else {
                c.setFolded(null, null);
                bn.setFolded(false);
            }
        }
        return folded;
    }

    /**
     * The BatchNorm's ReLU moves into the convolution's epilogue (one fused kernel, one output
     * fewer), unless the logits change (the conv output has another reader), then it stays.
     */
    private static void foldRelu(Model model, Tensor probe, float[] before, Conv2d c, BatchNorm2d bn) {
        c.setFoldedRelu(true);
        bn.setReluFolded(true);
        if (!sameLogits(before, logits(model, probe))) {
            c.setFoldedRelu(false);
            bn.setReluFolded(false);
        }
    }

    private static float[] logits(Model model, Tensor x) {
        try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
            return model.forward(x).toFloatArray();
        }
    }

    /** Within float rounding of the deeper sums: 1e-4 of the largest logit. */
    private static boolean sameLogits(float[] a, float[] b) {
        double maxDiff = 0, scale = 1e-6;
        for (int e = 0; e < a.length; e++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[e] - b[e]));
            scale = Math.max(scale, Math.abs(a[e]));
        }
        return maxDiff <= 1e-4 * scale + 1e-5;
    }

    private static void foldPair(Conv2d conv, BatchNorm2d bn) {
        Tensor w = conv.weight().value(), b = conv.bias() == null ? null : conv.bias().value();
        Tensor gamma = bn.weight().value(), beta = bn.bias().value();
        Tensor mean = bn.runningMean().value(), var = bn.runningVar().value();
        int k = w.dim(0);
        long per = w.numel() / k;
        Tensor fw, fb;
        try (Restore unscoped = Scope.suspend()) {   // they live as long as the model
            fw = Tensor.empty(DType.F32, w.shape());
            fb = Tensor.empty(DType.F32, k);
        }
        for (int ch = 0; ch < k; ch++) {
            double s = gamma.getFlat(ch) / Math.sqrt(var.getFlat(ch) + org.stablekd.ops.Norm.DEFAULT_EPS);
            for (long e = 0; e < per; e++) fw.setFlat(ch * per + e, w.getFlat(ch * per + e) * s);
            double bias = b == null ? 0 : b.getFlat(ch);
            fb.setFlat(ch, (bias - mean.getFlat(ch)) * s + beta.getFlat(ch));
        }
        conv.setFolded(fw, fb);
        bn.setFolded(true);
    }
}

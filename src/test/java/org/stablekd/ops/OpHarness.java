package org.stablekd.ops;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * Runs one registry case on one backend: forward, then backward of Σ(out ∘ R) for a fixed random
 * R, and collects the output, the input gradients and the final value of every input (in-place
 * state such as BatchNorm's running statistics).
 */
final class OpHarness {
    private OpHarness() {}

    record Result(double[] output, List<double[]> grads, List<double[]> inputsAfter) {}

    static final long SEED = 20261123L;

    /** Runs the case; with {@code strided}, differentiable inputs are passed as non-contiguous views and only the forward runs. */
    static Result run(OpRegistry.Case c, Backend backend, DType dtype, boolean strided) {
        try (Restore b = Backends.use(backend); Scope scope = Scope.open()) {
            Tensor[] in = c.make(dtype, SEED);
            if (strided) {
                // in-place state (running statistics) stays contiguous
                for (int i = 0; i < in.length; i++) if (c.inputs().get(i).differentiable()) in[i] = nonContiguousCopy(in[i]);
            } else {
                for (int i = 0; i < in.length; i++) if (c.inputs().get(i).differentiable()) in[i].requiresGrad(true);
            }
            Tensor out = c.call().apply(in);
            List<double[]> grads = new ArrayList<>();
            if (!strided) {
                Autograd.backward(weightedSum(out));
                for (int i = 0; i < in.length; i++) {
                    if (c.inputs().get(i).differentiable()) grads.add(in[i].grad().toDoubleArray());
                }
            }
            List<double[]> after = new ArrayList<>();
            for (Tensor t : in) after.add(t.toDoubleArray());
            return new Result(out.toDoubleArray(), grads, after);
        }
    }

    /** Runs an unrecorded case (no backward): its output and every input after it. */
    static Result forward(OpRegistry.Case c, Backend backend, DType dtype) {
        try (Restore b = Backends.use(backend); Scope scope = Scope.open()) {
            Tensor[] in = c.make(dtype, SEED);
            Tensor out = c.call().apply(in);
            List<double[]> after = new ArrayList<>();
            for (Tensor t : in) after.add(t.toDoubleArray());
            return new Result(out.toDoubleArray(), List.of(), after);
        }
    }

    /**
     * Forward and backward with differentiable input {@code stridedInput} passed as a non-contiguous view (a leaf that
     * requires a gradient when {@code stridedGrad}) and the other differentiable inputs as contiguous leaves that require
     * one. {@code grads} holds one entry per differentiable input, null for an input that got no gradient.
     */
    static Result runWithStridedInput(OpRegistry.Case c, Backend backend, DType dtype, int stridedInput, boolean stridedGrad) {
        if (!c.inputs().get(stridedInput).differentiable()) throw new IllegalArgumentException("input " + stridedInput + " is not differentiable");
        try (Restore b = Backends.use(backend); Scope scope = Scope.open()) {
            Tensor[] in = c.make(dtype, SEED);
            for (int i = 0; i < in.length; i++) {
                if (!c.inputs().get(i).differentiable()) continue;
                if (i == stridedInput) {
                    in[i] = nonContiguousCopy(in[i]);
                    if (stridedGrad) in[i].requiresGrad(true);
                } else {
                    in[i].requiresGrad(true);
                }
            }
            Tensor out = c.call().apply(in);
            if (out.requiresGrad()) Autograd.backward(weightedSum(out));   // not when the strided input was the only differentiable one
            List<double[]> grads = new ArrayList<>();
            for (int i = 0; i < in.length; i++) {
                if (c.inputs().get(i).differentiable()) grads.add(in[i].grad() == null ? null : in[i].grad().toDoubleArray());
            }
            List<double[]> after = new ArrayList<>();
            for (Tensor t : in) after.add(t.toDoubleArray());
            return new Result(out.toDoubleArray(), grads, after);
        }
    }

    /** Σ(out ∘ R), R drawn from a fixed seed: every output element gets its own weight. */
    static Tensor weightedSum(Tensor out) {
        Rng rng = new Rng(SEED + 1);
        Tensor r = Tensor.empty(out.dtype(), out.shape());
        for (long e = 0; e < r.numel(); e++) r.setFlat(e, (float) rng.nextGaussian());
        return Reduce.sum(Pointwise.mul(out, r));
    }

    /** The same values in a view whose last dimension has stride 2 (and a non-zero offset). */
    static Tensor nonContiguousCopy(Tensor t) {
        int[] dims = t.shape().dims();
        if (dims.length == 0) return t;
        int[] wide = dims.clone();
        wide[wide.length - 1] = 2 * dims[dims.length - 1] + 1;
        Tensor big = Tensor.zeros(t.dtype(), wide);
        long[] st = big.strides();
        // the view: element (…, j) lives at big(…, 2j+1)
        Tensor view = big.narrowView(-1, 1, 2 * dims[dims.length - 1]);
        Tensor strided = view.asStridedView(dims, stridesWithLast(st, 2));
        for (long e = 0; e < t.numel(); e++) strided.setFlat(e, t.getFlat(e));
        if (strided.isContiguous() && t.numel() > 1) throw new AssertionError("view is contiguous");
        return strided;
    }

    private static long[] stridesWithLast(long[] st, long last) {
        long[] s = st.clone();
        s[s.length - 1] = last;
        return s;
    }
}

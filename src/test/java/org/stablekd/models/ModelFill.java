package org.stablekd.models;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.stablekd.nn.Module;
import org.stablekd.tensor.Tensor;

/**
 * The deterministic parameter/buffer fill of scripts/golden/make_model_fixtures.py
 * ({@code fill_values}), reproduced bit for bit: u ∈ [-1, 1) from splitmix64 over
 * fnv1a64(name) + (i+1)·φ, then weights (rank ≥ 2) u·√(3/fan_in), BN weights 1 + u/4, biases
 * u/10, running_mean u/10, running_var 1 + u/2, num_batches_tracked 0 — computed in double and
 * rounded once to float, as numpy does.
 */
final class ModelFill {
    private ModelFill() {}

    static void fill(Module model) {
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) fill(e.getKey(), e.getValue());
    }

    static void fill(String name, Tensor t) {
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        long seed = fnv1a64(name);
        long n = t.numel();
        double scale = t.rank() >= 2 ? Math.sqrt(3.0 / (n / t.dim(0))) : 0;
        for (long i = 0; i < n; i++) {
            double u = uniform(seed, i);
            double v = switch (leaf) {
                case "num_batches_tracked" -> 0;
                case "running_mean", "bias" -> 0.1 * u;
                case "running_var" -> 1.0 + 0.5 * u;
                case "weight" -> t.rank() == 1 ? 1.0 + 0.25 * u : u * scale;
                default -> throw new IllegalArgumentException("no fill rule for " + name);
            };
            t.setFlat(i, v);
        }
    }

    /** The i-th value in [-1, 1) for a tensor whose name hashes to {@code seed}: a multiple of 2^-23. */
    static double uniform(long seed, long i) {
        long z = seed + (i + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 40) / 8388608.0 - 1.0;
    }

    static long fnv1a64(String s) {
        long h = 0xCBF29CE484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001B3L;
        }
        return h;
    }
}

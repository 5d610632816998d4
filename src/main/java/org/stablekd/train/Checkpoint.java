package org.stablekd.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.nn.Module;
import org.stablekd.nn.StateDict;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * A resumable training state in one safetensors file: each trained module's state dict under a
 * role prefix ({@code model.conv1.weight}, later {@code connector.0.…}), the optimizer slabs
 * ({@code optim.momentum}), and metadata (format, model name, next epoch, RNG states, the run's
 * configuration). Written atomically (temp file + rename, see {@link Safetensors#write}), so a
 * killed run always finds the last complete checkpoint.
 */
public final class Checkpoint {
    public static final String FORMAT = "stablekd-checkpoint-v1";

    private Checkpoint() {}

    /** What a checkpoint holds besides the module states. */
    public record Meta(String modelName, int nextEpoch, Map<String, String> extra) {}

    public static void save(Path file, Map<String, Module> modules, Map<String, Tensor> optimizerState,
                            Meta meta, Map<String, Rng> rngs) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        modules.forEach((role, m) -> m.stateDict().forEach((k, v) -> tensors.put(role + "." + k, v)));
        optimizerState.forEach((k, v) -> tensors.put("optim." + k, v));
        Map<String, String> md = new LinkedHashMap<>(meta.extra());
        md.put("format", FORMAT);
        md.put("model", meta.modelName());
        md.put("next_epoch", Integer.toString(meta.nextEpoch()));
        rngs.forEach((name, rng) -> md.put("rng." + name, encode(rng.state())));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Safetensors.write(file, org.stablekd.backend.Transfers.toHost(tensors), md);   // device state is downloaded here
    }

    /**
     * Restores modules, optimizer state and RNGs from {@code file} into the given (already built)
     * objects and returns the metadata. The model name and every tensor name/shape must match.
     */
    public static Meta load(Path file, String expectedModel, Map<String, Module> modules,
                            Map<String, Tensor> optimizerState, Map<String, Rng> rngs) throws IOException {
        TensorFile tf = Safetensors.read(file);
        Map<String, String> md = tf.metadata();
        if (!FORMAT.equals(md.get("format"))) {
            throw new IllegalArgumentException(file + " is not a stablekd checkpoint (format '" + md.get("format")
                    + "'); to start from weights only, pass them as weights instead of --resume");
        }
        String model = md.get("model");
        if (!expectedModel.equals(model)) {
            throw new IllegalArgumentException(file + " is a checkpoint of " + model + ", not " + expectedModel + "; pass --model " + model + " or start a new run");
        }
        for (var e : modules.entrySet()) {
            String prefix = e.getKey() + ".";
            Map<String, Tensor> part = new LinkedHashMap<>();
            tf.tensors().forEach((k, v) -> { if (k.startsWith(prefix)) part.put(k.substring(prefix.length()), v); });
            StateDict.load(e.getValue(), part, file.toString(), model);
        }
        for (var e : optimizerState.entrySet()) {
            Tensor saved = tf.tensors().get("optim." + e.getKey());
            if (saved == null || !saved.shape().equals(e.getValue().shape())) {
                throw new IllegalArgumentException(file + ": optimizer state 'optim." + e.getKey() + "' is missing or has another shape; the checkpoint belongs to another configuration");
            }
            copy(saved, e.getValue());
        }
        for (var e : rngs.entrySet()) {
            String s = md.get("rng." + e.getKey());
            if (s == null) throw new IllegalArgumentException(file + ": no random state '" + e.getKey() + "'");
            e.getValue().setState(decode(s));
        }
        Map<String, String> extra = new LinkedHashMap<>(md);
        extra.keySet().removeIf(k -> k.equals("format") || k.equals("model") || k.equals("next_epoch") || k.startsWith("rng."));
        return new Meta(model, Integer.parseInt(md.get("next_epoch")), extra);
    }

    private static void copy(Tensor src, Tensor dst) {
        org.stablekd.nn.StateDict.copyInto(src, dst);   // converts dtypes; uploads to a device-resident destination
    }

    static String encode(long[] state) {
        StringBuilder sb = new StringBuilder();
        for (long v : state) sb.append(sb.isEmpty() ? "" : ",").append(Long.toHexString(v));
        return sb.toString();
    }

    static long[] decode(String s) {
        String[] parts = s.split(",");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) out[i] = Long.parseUnsignedLong(parts[i], 16);
        return out;
    }
}

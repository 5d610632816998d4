package org.stablekd.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.stablekd.ops.Memory;
import org.stablekd.tensor.Tensor;

/** Loading a named state (a PyTorch state dict read from safetensors) into a module. */
public final class StateDict {
    private StateDict() {}

    /**
     * Copies every tensor of {@code state} into the module's parameter or buffer of the same
     * name, converting dtypes. Strict: missing, unexpected or mis-shaped keys fail with one message
     * listing them all, and nothing is copied. {@code source} names the file for the message.
     */
    public static void load(Module module, Map<String, Tensor> state, String source, String modelName) {
        Map<String, Tensor> mine = module.stateDict();
        TreeSet<String> missing = new TreeSet<>(mine.keySet());
        missing.removeAll(state.keySet());
        TreeSet<String> unexpected = new TreeSet<>(state.keySet());
        unexpected.removeAll(mine.keySet());
        List<String> misShaped = new ArrayList<>();
        for (var e : mine.entrySet()) {
            Tensor t = state.get(e.getKey());
            if (t != null && !t.shape().equals(e.getValue().shape())) {
                misShaped.add(e.getKey() + " file " + t.shape() + " vs model " + e.getValue().shape());
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
            StringBuilder sb = new StringBuilder(source + " does not match " + modelName + ":");
            if (!missing.isEmpty()) sb.append(" missing ").append(missing.size()).append(" keys ").append(head(new ArrayList<>(missing))).append(';');
            if (!unexpected.isEmpty()) sb.append(" unexpected ").append(unexpected.size()).append(" keys ").append(head(new ArrayList<>(unexpected))).append(';');
            if (!misShaped.isEmpty()) sb.append(" mis-shaped ").append(misShaped.size()).append(": ").append(head(misShaped)).append(';');
            sb.append(" is it a checkpoint of another model, or another number of classes / input channels?");
            throw new IllegalArgumentException(sb.toString());
        }
        for (var e : mine.entrySet()) copyInto(state.get(e.getKey()), e.getValue());
    }

    private static String head(List<String> names) {
        int shown = Math.min(names.size(), 8);
        String s = String.join(", ", names.subList(0, shown));
        return "[" + s + (names.size() > shown ? ", …" : "") + "]";
    }

    /**
     * dst ← src (same shape), converting the dtype element by element on the host when they
     * differ; a destination on a device gets the (converted) host tensor uploaded.
     */
    public static void copyInto(Tensor src, Tensor dst) {
        if (src.dtype() == dst.dtype() && src.device().equals(dst.device())) {
            Memory.copy(src, dst);
            return;
        }
        Tensor host = org.stablekd.backend.Transfers.toHost(src);
        if (host.dtype() != dst.dtype()) {
            Tensor converted = Tensor.empty(dst.dtype(), dst.shape());
            for (long i = 0; i < converted.numel(); i++) converted.setFlat(i, host.getFlat(i));
            host = converted;
        }
        if (dst.device().isHost()) Memory.copy(host, dst);
        else Memory.copy(org.stablekd.backend.Transfers.to(host, dst.device()), dst);
    }
}

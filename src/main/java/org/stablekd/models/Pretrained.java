package org.stablekd.models;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.nn.Model;
import org.stablekd.nn.StateDict;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;

/** Builds a zoo model and loads a safetensors state dict into it (eval, predict, distillation teachers). */
public final class Pretrained {
    private Pretrained() {}

    /** The number of classes a weights file was trained for: its metadata, else the last 2-D weight's rows. */
    public static int classesOf(TensorFile tf) {
        String c = tf.metadata().get("classes");
        if (c != null) return Integer.parseInt(c);
        var last = tf.tensors().entrySet().stream().filter(e -> e.getKey().endsWith("weight") && e.getValue().rank() == 2)
                .reduce((a, b) -> b);
        if (last.isEmpty()) throw new IllegalArgumentException("cannot tell the number of classes of the weights; pass --classes");
        return last.get().getValue().dim(0);
    }

    /** The model {@code model} with the weights of {@code file}, in eval mode; {@code classes} null = from the file. */
    public static Model load(String model, Path file, Integer classes, Shape input) throws IOException {
        if (!Files.exists(file)) throw new IllegalArgumentException("weights file " + file + " does not exist");
        TensorFile tf = Safetensors.read(file);
        int n = classes != null ? classes : classesOf(tf);
        Model m = Zoo.create(model, n, input, new Rng(0));
        StateDict.load(m, tf.tensors(), file.toString(), model);
        m.eval();
        return m;
    }
}

package org.stablekd.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.stablekd.tensor.Tensor;

/** nn.Sequential: children named "0", "1", … applied in order (subclasses may run them otherwise, with the same result). */
public class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) add(m);
    }

    public <M extends Module> M add(M m) {
        child(Integer.toString(layers.size()), m);
        layers.add(m);
        return m;
    }

    public List<Module> layers() {
        return Collections.unmodifiableList(layers);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Tensor forward(Tensor x) {
        for (Module m : layers) x = m.forward(x);
        return x;
    }
}

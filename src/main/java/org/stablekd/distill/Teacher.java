package org.stablekd.distill;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Tensor;

/**
 * A frozen teacher: always in eval mode, run under noGrad, so it never records a graph, never
 * gets a gradient, and never updates its BatchNorm statistics.
 */
public final class Teacher {
    private final Model model;

    public Teacher(Model model) {
        this.model = model;
        model.eval();
    }

    public Model model() {
        return model;
    }

    /** The logits. */
    public Tensor logits(Tensor images) {
        model.eval();
        try (Restore ng = Autograd.noGrad()) {
            return model.forward(images);
        }
    }

    /**
     * The features at the given stage boundaries: element i is the input of stage {@code cuts[i]}
     * (cut 0 is the image itself, a cut equal to the stage count is the logits), computed in one
     * forward. {@code cuts} must be increasing.
     */
    public List<Tensor> features(Tensor images, int[] cuts) {
        model.eval();
        List<Tensor> out = new ArrayList<>();
        try (Restore ng = Autograd.noGrad()) {
            Tensor x = images;
            int stage = 0;
            for (int c : cuts) {
                x = model.forwardStages(stage, c, x);
                stage = c;
                out.add(x);
            }
        }
        return out;
    }
}

package org.stablekd.distill;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.WeightCache;
import org.stablekd.nn.BatchNormFolding;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Tensor;

/**
 * A frozen teacher: always in eval mode, run under noGrad, so it never records a graph, never
 * gets a gradient, and never updates its BatchNorm statistics.
 *
 * <p>It runs the inference path, as a {@link org.stablekd.infer.Predictor} does: its BatchNorms
 * are folded into the convolutions before them ({@link BatchNormFolding}: one pass less per
 * layer, the folded weights are separate tensors, so the model's parameters and state dict stay
 * as loaded), and its forwards run under a {@link WeightCache}, so the convolutions pack their
 * constant weights once instead of on every batch. Folding changes the teacher's outputs only by
 * float rounding (the fold is checked on a probe batch; see BatchNormFolding).
 */
public final class Teacher {
    private final Model model;
    private final WeightCache packed = new WeightCache();

    public Teacher(Model model) {
        this.model = model;
        BatchNormFolding.fold(model);   // also puts it in eval mode; a model on a device stays there
    }

    public Model model() {
        return model;
    }

    /** Moves the teacher, its folded weights included, to {@code device} (see {@link org.stablekd.nn.Module#to}). */
    public void to(org.stablekd.tensor.Device device) {
        model.to(device);
    }

    /** The logits. */
    public Tensor logits(Tensor images) {
        Tensor[] out = new Tensor[1];
        run(() -> out[0] = model.forward(images));
        return out[0];
    }

    /**
     * The features at the given stage boundaries: element i is the input of stage {@code cuts[i]}
     * (cut 0 is the image itself, a cut equal to the stage count is the logits), computed in one
     * forward. {@code cuts} must be increasing.
     */
    public List<Tensor> features(Tensor images, int[] cuts) {
        List<Tensor> out = new ArrayList<>();
        run(() -> {
            Tensor x = images;
            int stage = 0;
            for (int c : cuts) {
                x = model.forwardStages(stage, c, x);
                stage = c;
                out.add(x);
            }
        });
        return out;
    }

    /** body in eval mode, without a graph, with the teacher's packed weights in force. */
    private void run(Runnable body) {
        model.eval();
        packed.run(() -> {
            try (Restore ng = Autograd.noGrad()) {
                body.run();
            }
        });
    }
}

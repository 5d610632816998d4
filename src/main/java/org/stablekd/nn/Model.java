package org.stablekd.nn;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.autograd.Autograd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A network as an ordered list of named stages: forward = stage N ∘ … ∘ stage 1. Stage
 * boundaries are the cut points StableKD decomposes at (docs/design.md, Stages); the last stage
 * produces the logits. State-dict names do not depend on stages (they follow the PyTorch module
 * paths).
 */
public abstract class Model extends Module {
    private final String name;
    private final int numClasses;
    private final Shape inputShape;

    protected Model(String name, int numClasses, Shape inputShape) {
        this.name = name;
        this.numClasses = numClasses;
        this.inputShape = inputShape;
    }

    public String name() { return name; }
    public int numClasses() { return numClasses; }
    /** One input image (C, H, W). */
    public Shape inputShape() { return inputShape; }

    /** The stage names, in order. */
    public abstract List<String> stageNames();

    /** Runs stage {@code i} on its input (the previous stage's output, or the image for stage 0). */
    public abstract Tensor forwardStage(int i, Tensor x);

    public int stageCount() {
        return stageNames().size();
    }

    @Override
    public Tensor forward(Tensor x) {
        for (int i = 0; i < stageCount(); i++) x = forwardStage(i, x);
        return x;
    }

    /** Runs stages {@code from..to-1} (a StableKD group). */
    public Tensor forwardStages(int from, int to, Tensor x) {
        for (int i = from; i < to; i++) x = forwardStage(i, x);
        return x;
    }

    /**
     * The parameters stage {@code i} uses, in the model's parameter order: found by running the
     * stage once (eval, no recording, batch 1 of zeros) and noting which parameters it reads.
     */
    public List<Parameter> stageParameters(int i) {
        List<Shape> shapes = stageShapes(1);
        Shape in = i == 0 ? null : shapes.get(i - 1);
        boolean wasTraining = isTraining();
        eval();
        java.util.Set<Parameter> used;
        try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
            Tensor x;
            if (i == 0) {
                int[] dims = new int[inputShape.rank() + 1];
                dims[0] = 1;
                for (int d = 0; d < inputShape.rank(); d++) dims[d + 1] = inputShape.dim(d);
                x = zerosHere(Shape.of(dims));
            } else {
                x = zerosHere(in);
            }
            Tensor input = x;
            used = Parameter.usedBy(() -> forwardStage(i, input));
        } finally {
            train(wasTraining);
        }
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : namedParameters().values()) if (used.contains(p)) out.add(p);
        return out;
    }

    /**
     * The output shape of each stage for a batch of {@code batch} images, found by running a
     * forward on zeros in eval mode without recording (running statistics are not touched).
     */
    public List<Shape> stageShapes(int batch) {
        boolean wasTraining = isTraining();
        eval();
        List<Shape> out = new ArrayList<>();
        try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
            int[] dims = new int[inputShape.rank() + 1];
            dims[0] = batch;
            for (int i = 0; i < inputShape.rank(); i++) dims[i + 1] = inputShape.dim(i);
            Tensor x = zerosHere(Shape.of(dims));
            for (int i = 0; i < stageCount(); i++) {
                x = forwardStage(i, x);
                out.add(x.shape());
            }
        } finally {
            train(wasTraining);
        }
        return out;
    }

    /** A zero probe on the model's device (the model may already have moved, see Module#to). */
    private Tensor zerosHere(Shape shape) {
        Tensor x = Tensor.empty(DType.F32, shape, device());
        org.stablekd.ops.Memory.fill(x, 0);
        return x;
    }
}

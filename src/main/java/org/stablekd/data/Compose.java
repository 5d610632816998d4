package org.stablekd.data;

import java.util.List;
import java.util.stream.Collectors;
import org.stablekd.tensor.Rng;

/** Transforms applied in order, all drawing from the same Rng. */
public final class Compose implements Transform {
    private final List<Transform> steps;

    private Compose(List<Transform> steps) {
        this.steps = List.copyOf(steps);
    }

    public static Transform of(Transform... steps) {
        return steps.length == 1 ? steps[0] : new Compose(List.of(steps));
    }

    public static Transform of(List<Transform> steps) {
        return steps.size() == 1 ? steps.getFirst() : new Compose(steps);
    }

    public List<Transform> steps() {
        return steps;
    }

    @Override
    public ImageShape outputShape(ImageShape input) {
        ImageShape s = input;
        for (Transform t : steps) s = t.outputShape(s);
        return s;
    }

    @Override
    public void apply(ImageBuffer image, Rng rng) {
        for (Transform t : steps) t.apply(image, rng);
    }

    @Override
    public String toString() {
        return steps.stream().map(Object::toString).collect(Collectors.joining(" → "));
    }
}

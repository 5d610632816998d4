package org.stablekd.distill;

import java.util.ArrayList;
import java.util.List;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * A 4-stage toy CNN for distillation tests: conv(1→w) | conv(w→w, s2) | conv(w→2w, s2) | pool+fc.
 * Every stage records the inputs it was called with, so tests can see what each block received.
 */
public final class ToyNet extends Model {
    final List<Conv2d> convs = new ArrayList<>();
    final List<BatchNorm2d> bns = new ArrayList<>();
    final Linear fc;
    final List<List<Tensor>> inputs = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    boolean recording;

    public ToyNet(String name, int width, long seed) {
        super(name, 5, Shape.of(1, 8, 8));
        Rng rng = new Rng(seed);
        int[][] spec = {{1, width, 1}, {width, width, 2}, {width, 2 * width, 2}};
        for (int i = 0; i < 3; i++) {
            convs.add(child("conv" + i, new Conv2d(spec[i][0], spec[i][1], 3, spec[i][2], 1)).kaimingFanOut(rng));
            bns.add(child("bn" + i, new BatchNorm2d(spec[i][1])));
        }
        fc = child("fc", new Linear(2 * width, 5, true)).pytorchDefault(rng);
    }

    @Override
    public List<String> stageNames() {
        return List.of("s1", "s2", "s3", "head");
    }

    @Override
    public Tensor forwardStage(int i, Tensor x) {
        if (recording) inputs.get(i).add(x);
        if (i < 3) return Pointwise.relu(bns.get(i).forward(convs.get(i).forward(x)));
        return fc.forward(Pool.globalAvgPool(x));
    }
}

package org.stablekd.cli;

import java.util.concurrent.Callable;
import org.stablekd.autograd.Autograd;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.ops.MacCounter;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code stablekd models}: every zoo model with its parameter count and cost per image. */
@Command(name = "models", mixinStandardHelpOptions = true,
        description = "List the model zoo: parameters and multiply-adds per image (for the given classes and input).")
final class ModelsCommand implements Callable<Integer> {
    @Option(names = "--classes", defaultValue = "100", description = "Number of classes (default ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--input", converter = Shapes.class, description = "Input CxHxW for every model (default: each model's standard input, 3x32x32 or 3x224x224).")
    Shape input;

    @Override
    public Integer call() {
        System.out.printf("%-14s %12s %10s %10s  %-11s %s%n", "model", "params", "MMACs", "MFLOPs", "input", "description");
        for (String name : Zoo.names()) {
            Shape in = input != null ? input : Zoo.standardInput(name);
            Model m = Zoo.create(name, classes, in, new Rng(0));
            long macs;
            try (Restore ng = Autograd.noGrad(); Scope s = Scope.open(); MacCounter c = MacCounter.start()) {
                m.eval();
                m.forward(Tensor.zeros(DType.F32, 1, in.dim(0), in.dim(1), in.dim(2)));
                macs = c.macs();
            }
            System.out.printf("%-14s %,12d %10.1f %10.1f  %-11s %s%n", name, m.parameterCount(), macs / 1e6, 2 * macs / 1e6,
                    in.dim(0) + "x" + in.dim(1) + "x" + in.dim(2), Zoo.description(name));
        }
        System.out.println("MACs: multiply-adds of convolutions and linear layers for one image; FLOPs = 2 x MACs.");
        return 0;
    }
}

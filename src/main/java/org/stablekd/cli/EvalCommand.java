package org.stablekd.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.stablekd.data.Loader;
import org.stablekd.data.LoaderOptions;
import org.stablekd.models.Pretrained;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Shape;
import org.stablekd.train.DataSpec;
import org.stablekd.train.Evaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stablekd eval}: test-set accuracy of a trained model. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Top-1/top-5 accuracy and loss of a zoo model with a weights file on a test set.")
final class EvalCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "Zoo model.") String model;
    @Option(names = "--weights", required = true, description = "safetensors state dict (e.g. runs/x/weights.safetensors).") Path weights;
    @Option(names = "--data", defaultValue = "fashion-mnist", description = "As for train (default ${DEFAULT-VALUE}).") String data;
    @Option(names = "--input", converter = Shapes.class, description = "Model input CxHxW (default: the dataset's).") Shape input;
    @Option(names = "--batch", defaultValue = "256") int batch;
    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() throws Exception {
        runtime.apply();
        DataSpec d = DataSpec.load(data, input, 2);
        Model m = Pretrained.load(model, weights, d.numClasses(), d.input());
        var device = runtime.device();
        m.to(device);
        try (Loader l = new Loader(d.test(), d.testTransform(), LoaderOptions.batchSize(batch).shuffle(false).workers(1));
             org.stablekd.train.DeviceBatches b = new org.stablekd.train.DeviceBatches(device)) {
            Evaluator.Result r = Evaluator.evaluate(m, l, 0, org.stablekd.dist.Local.INSTANCE, b);
            System.out.printf("%s on %s test (%d images): top-1 %.2f%%  top-5 %.2f%%  loss %.4f  (%.1f s)%n",
                    model, d.name(), r.images(), r.top1(), r.top5(), r.loss(), r.seconds());
        }
        return 0;
    }
}

package org.stablekd.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.stablekd.autograd.Autograd;
import org.stablekd.io.Safetensors;
import org.stablekd.io.TensorFile;
import org.stablekd.models.Pretrained;
import org.stablekd.nn.Model;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code stablekd predict}: logits of a model for an input tensor file. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Run a zoo model with a weights file on the tensor 'input' (N,C,H,W F32) of a safetensors file;",
                "write the logits (N,classes) as tensor 'logits' of another safetensors file."})
final class PredictCommand implements Callable<Integer> {
    @Option(names = "--model", required = true) String model;
    @Option(names = "--weights", required = true) Path weights;
    @Option(names = "--in", required = true, description = "safetensors file with tensor 'input' (N,C,H,W).") Path in;
    @Option(names = "--out", required = true, description = "safetensors file to write with tensor 'logits'.") Path out;
    @Option(names = "--classes", description = "Classes of the weights (default: from the weights file).") Integer classes;
    @Mixin RuntimeOptions runtime;

    @Override
    public Integer call() throws Exception {
        runtime.apply();
        TensorFile f = Safetensors.read(in);
        Tensor x = f.tensors().get("input");
        if (x == null) throw new IllegalArgumentException(in + " has no tensor 'input' (it has " + f.tensors().keySet() + ")");
        if (x.rank() != 4 || x.dtype() != DType.F32) throw new IllegalArgumentException(in + ": 'input' must be F32 (N,C,H,W), got " + x.dtype() + " " + x.shape());
        Model m = Pretrained.load(model, weights, classes, Shape.of(x.dim(1), x.dim(2), x.dim(3)));
        var device = runtime.device();
        m.to(device);
        Tensor logits;
        try (Restore ng = Autograd.noGrad()) {
            logits = org.stablekd.backend.Transfers.toHost(m.forward(org.stablekd.backend.Transfers.to(x, device)));
        }
        Map<String, String> md = new LinkedHashMap<>();
        md.put("model", model);
        md.put("weights", weights.toString());
        Safetensors.write(out, Map.of("logits", logits), md);
        System.out.printf("wrote logits %s to %s%n", logits.shape(), out);
        return 0;
    }
}

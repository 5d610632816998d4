package org.stablekd.backend.cuda;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Buffer;
import org.stablekd.nn.DeviceSlab;
import org.stablekd.nn.Model;
import org.stablekd.ops.Losses;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.TrainingStepRun;

/**
 * Note [Determinism] on the GPU: the whole training step of {@link TrainingStepRun} (fresh seeded resnet8, forward,
 * cross-entropy, backward into a device gradient slab, one SGD launch over the slab, BatchNorm running statistics on the
 * device), run twice from the same seed, must be bit-identical. Skipped with the reason where there is no GPU.
 */
@Tag("gpu")
class TrainingStepDeterminismGpuTest {

    @Test
    void aTrainingStepRunTwiceOnTheGpuIsBitIdentical() {
        CudaBackend cuda = GpuTests.requireGpu();
        TrainingStepRun.assertBitIdentical(run(cuda.device()), run(cuda.device()), "cuda backend on " + cuda.describe());
    }

    /** The steps of {@link TrainingStepRun#resnet8()} with the model, batches and optimizer state on {@code gpu}. */
    private static Map<String, float[]> run(Device gpu) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Model m = Zoo.create("resnet8", TrainingStepRun.CLASSES, Shape.of(3, 32, 32), new Rng(41));
        m.train(true);
        DeviceSlab slab = DeviceSlab.pack(m, gpu);
        Tensor momentum = CudaTensors.toDevice(Tensor.zeros(DType.F32, slab.values().shape()), gpu);
        var pointwise = Backends.select(Op.SUM, DType.F32, gpu).pointwise();
        var optimizer = Backends.select(Op.SGD_STEP, DType.F32, gpu).optimizer();
        int batch = TrainingStepRun.BATCH;
        for (int step = 0; step < TrainingStepRun.STEPS; step++) {
            try (Scope s = Scope.open()) {
                Tensor x = CudaTensors.toDevice(Tensor.randn(new Rng(100 + step), DType.F32, 1, batch, 3, 32, 32), gpu);
                Rng lr = new Rng(200 + step);
                int[] labels = new int[batch];
                for (int i = 0; i < batch; i++) labels[i] = lr.nextInt(TrainingStepRun.CLASSES);
                pointwise.fill(slab.grads(), 0);
                Tensor logits = m.forward(x);
                Tensor loss = Losses.crossEntropy(logits, CudaTensors.toDevice(Tensor.ofInts(labels, batch), gpu));
                Autograd.backward(loss);
                out.put("step " + step + " logits", CudaTensors.toHost(logits).toFloatArray());
                out.put("step " + step + " loss", CudaTensors.toHost(loss).toFloatArray());
                out.put("step " + step + " gradients", CudaTensors.toHost(slab.grads()).toFloatArray());
                optimizer.sgd(slab.values(), slab.grads(), momentum, 0.1, 0.9, 5e-4, false);
            }
        }
        out.put("parameters", CudaTensors.toHost(slab.values()).toFloatArray());
        out.put("momentum", CudaTensors.toHost(momentum).toFloatArray());
        for (Map.Entry<String, Buffer> e : m.namedBuffers().entrySet()) {
            Tensor v = e.getValue().value();
            out.put("buffer " + e.getKey(), (v.device().isHost() ? v : CudaTensors.toHost(v)).toFloatArray());
        }
        return out;
    }
}

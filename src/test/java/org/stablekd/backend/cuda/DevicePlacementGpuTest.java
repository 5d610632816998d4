package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.data.Dataset;
import org.stablekd.data.ImageShape;
import org.stablekd.data.InMemoryImages;
import org.stablekd.data.Normalize;
import org.stablekd.distill.KD;
import org.stablekd.distill.Plan;
import org.stablekd.distill.StableKD;
import org.stablekd.infer.Predictor;
import org.stablekd.io.Safetensors;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.optim.LrSchedule;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;
import org.stablekd.testing.Tolerance;
import org.stablekd.train.Trainer;
import org.stablekd.train.TrainingMethod;

/**
 * Device placement on the GPU (what DevicePlacementTest checks on the simulated device): KD and
 * StableKD trained by the Trainer on cuda:0 (modules, slabs, momentum on the GPU, batches through
 * the pinned uploader, evaluation there, checkpoints downloaded), close to the same runs on the
 * CPU after one epoch; a Predictor on the GPU gives the CPU's logits.
 */
@Tag("gpu")
class DevicePlacementGpuTest {
    static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());
    /** Four SGD steps of drift between cuDNN and the CPU kernels (loose on purpose: this checks placement, not kernels). */
    static final Tolerance AFTER_AN_EPOCH = new Tolerance(2e-3, 2e-3);

    static Model zoo(String name, long seed) {
        return Zoo.create(name, 3, Shape.of(1, 32, 32), new Rng(seed));
    }

    static Dataset noise(int n, long seed) {
        Rng rng = new Rng(seed);
        InMemoryImages imgs = new InMemoryImages(n, new ImageShape(1, 32, 32));
        int[] labels = new int[n];
        byte[] img = new byte[32 * 32];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            for (int p = 0; p < img.length; p++) img[p] = (byte) (rng.nextInt(60) + 60 * labels[i]);
            imgs.write(i, img, 0);
        }
        return new Dataset("noise", imgs, labels, Dataset.numberedClasses(3));
    }

    static Trainer.Result fit(TrainingMethod m, Device device, Path out) throws Exception {
        Normalize tf = new Normalize(new float[] {0.3f}, new float[] {0.3f});
        Trainer.Options o = new Trainer.Options(1, 8, new LrSchedule.MultiStep(0.05, 0.1, 1), 0.9, 5e-4, false, 7, out, false, 1, 16, false, Map.of());
        return new Trainer(o, QUIET).on(device).fit(m, noise(32, 3), tf, noise(16, 4), tf);
    }

    @Test
    void kdAndStableKdTrainOnTheGpuCloseToTheCpu(@TempDir Path dir) throws Exception {
        Device gpu = GpuTests.requireGpu().device();
        for (String method : new String[] {"kd", "stablekd"}) {
            Trainer.Result[] r = new Trainer.Result[2];
            Device[] devices = {Device.CPU, gpu};
            for (int i = 0; i < 2; i++) {
                Model t = zoo("resnet14", 2), s = zoo("resnet8", 1);
                TrainingMethod m = method.equals("kd") ? new KD(t, s, 0.1, 0.9, 4)
                        : new StableKD(t, s, Plan.defaults(4, 4, 3), null, new Rng(5), QUIET);
                r[i] = fit(m, devices[i], dir.resolve(method + "-" + i));
                assertEquals(devices[i], s.device(), method);
            }
            assertTrue(Double.isFinite(r[1].lastTop1()), method);
            var cpu = Safetensors.read(dir.resolve(method + "-0/checkpoint.safetensors")).tensors();
            var cuda = Safetensors.read(dir.resolve(method + "-1/checkpoint.safetensors")).tensors();
            assertEquals(cpu.keySet(), cuda.keySet());
            for (String k : cpu.keySet()) {
                if (cpu.get(k).dtype().floating) Close.assertClose(cuda.get(k), cpu.get(k), AFTER_AN_EPOCH, method + " " + k);
            }
        }
    }

    @Test
    void aPredictorOnTheGpuGivesTheCpuLogits() {
        Device gpu = GpuTests.requireGpu().device();
        Tensor x = Tensor.randn(new Rng(3), org.stablekd.tensor.DType.F32, 1, 4, 1, 32, 32);
        try (Predictor cpu = Predictor.of(zoo("resnet8", 1)); Predictor cuda = Predictor.of(zoo("resnet8", 1)).to(gpu)) {
            Close.assertClose(cuda.predict(x.toFloatArray(), 4), cpu.predict(x.toFloatArray(), 4), Tolerance.CUDA_VS_CPU, "logits");
        }
    }
}

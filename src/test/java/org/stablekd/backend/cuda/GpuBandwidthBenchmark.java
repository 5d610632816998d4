package org.stablekd.backend.cuda;

import java.util.Locale;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Our kernels' memory bandwidth against a device-to-device copy (the practical ceiling), in the
 * llm.c style: for each memory-bound kernel, the bytes it must move, the median GPU time over
 * 20 runs (CUDA events, after 3 warm-ups, on random data), GB/s and the fraction of copy GB/s.
 *
 * <pre>  $JAVA -cp "$TESTCP" org.stablekd.backend.cuda.GpuBandwidthBenchmark [elements, a multiple of 2^16, default 2^26]</pre>
 * Not a test: prints a table (or why there is no GPU) and exits normally.
 */
public final class GpuBandwidthBenchmark {
    private GpuBandwidthBenchmark() {}

    public static void main(String[] args) {
        Backends.Availability a = Backends.cuda();
        if (!a.available()) {
            System.out.println("GpuBandwidthBenchmark: no GPU (" + a.reason() + ")");
            return;
        }
        CudaBackend b = (CudaBackend) a.backend();
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1 << 26;
        if (n % (1 << 16) != 0) throw new IllegalArgumentException("the element count must be a multiple of 65536 (the image views), got " + n);
        Device gpu = b.device();
        System.out.println("device: " + b.describe() + "; " + n + " floats (" + (4L * n >> 20) + " MiB) per tensor");
        Tensor x = random(n, 1), y = random(n, 2), z = random(n, 3), m = random(n, 4);
        Tensor one = CudaTensors.toDevice(Tensor.scalar(DType.F32, 1));
        CudaTimer t = new CudaTimer(b);
        var pw = b.pointwise();
        long f = 4L * n;
        double copyMs = t.medianMs(3, 20, () -> b.copy().copy(x, y));
        double copyGbs = 2 * f / copyMs / 1e6;
        System.out.printf(Locale.ROOT, "%-28s %10s %10s %9s %8s%n", "kernel", "MiB moved", "median ms", "GB/s", "of copy");
        row("cuMemcpyDtoD (copy)", 2 * f, copyMs, copyGbs);
        row("relu_forward_f32", 2 * f, t.medianMs(3, 20, () -> pw.unary(Op.RELU, x, 0, y)), copyGbs);
        row("scale_f32", 2 * f, t.medianMs(3, 20, () -> pw.unary(Op.SCALE, x, 0.5, y)), copyGbs);
        row("add_f32", 3 * f, t.medianMs(3, 20, () -> pw.binary(Op.ADD, x, y, z)), copyGbs);
        row("add_relu_f32", 3 * f, t.medianMs(3, 20, () -> pw.binary(Op.ADD_RELU, x, y, z)), copyGbs);
        row("relu_backward_f32", 3 * f, t.medianMs(3, 20, () -> pw.activationBackward(Op.RELU, x, y, z)), copyGbs);
        row("axpy_f32", 3 * f, t.medianMs(3, 20, () -> pw.axpy(x, 0.5, y, z)), copyGbs);
        row("fill_from_scalar_f32", f, t.medianMs(3, 20, () -> pw.fillFromScalar(one, 2, z)), copyGbs);
        row("sgd_step_f32 (slab)", 5 * f, t.medianMs(3, 20, () -> b.optimizer().sgd(x, y, m, 1e-9, 0.9, 5e-4, false)), copyGbs);
        Tensor out = Tensor.empty(DType.F32, Shape.scalar(), gpu);
        row("sum (two passes)", f, t.medianMs(3, 20, () -> b.reduce().sum(x, out)), copyGbs);
        // a (n/4096, 64, 64) → its transpose: the strided copy kernel
        Tensor cube = x.viewAs(n / 4096, 64, 64).permuteView(0, 2, 1);
        Tensor dst = Tensor.empty(DType.F32, cube.shape(), gpu);
        row("copy_strided_b4 (transpose)", 2 * f, t.medianMs(3, 20, () -> b.copy().copy(cube, dst)), copyGbs);
        // batch norm over (n/1024/64, 64, 32, 32)
        Tensor img = x.viewAs(n / (64 * 1024), 64, 32, 32), imgOut = y.viewAs(n / (64 * 1024), 64, 32, 32);
        Tensor g = CudaTensors.toDevice(Tensor.full(DType.F32, 1, 64)), be = CudaTensors.toDevice(Tensor.zeros(DType.F32, 64));
        Tensor rm = CudaTensors.toDevice(Tensor.zeros(DType.F32, 64)), rv = CudaTensors.toDevice(Tensor.full(DType.F32, 1, 64));
        Tensor mean = Tensor.empty(DType.F32, Shape.of(64), gpu), inv = Tensor.empty(DType.F32, Shape.of(64), gpu);
        row("batchnorm train (stats+apply)", 4 * f, t.medianMs(3, 20, () -> b.norm().batchNormTrain(img, g, be, rm, rv, 0.1, 1e-5, imgOut, mean, inv)), copyGbs);
        Tensor affine = Tensor.empty(DType.F32, Shape.of(128), gpu);
        row("batchnorm train + relu (stats+bn_apply_relu)", 4 * f, t.medianMs(3, 20,
                () -> b.norm().batchNormTrainRelu(img, g, be, rm, rv, 0.1, 1e-5, imgOut, mean, inv, affine)), copyGbs);
        PoolGeometry pg = PoolGeometry.of(img.dim(0), 64, 32, 32, 2, 2, 2, 2, 0, 0, false);
        Tensor pooled = Tensor.empty(DType.F32, Shape.of(img.dim(0), 64, 16, 16), gpu);
        Tensor argmax = Tensor.empty(DType.I32, pooled.shape(), gpu);
        row("max_pool_forward_f32 2x2", f + f / 2, t.medianMs(3, 20, () -> b.pool().maxForward(pg, img, pooled, argmax)), copyGbs);
        // softmax over rows of 100 classes
        int rows = n / 100;
        Tensor logits = x.narrowView(0, 0, rows * 100).viewAs(rows, 100), probs = y.narrowView(0, 0, rows * 100).viewAs(rows, 100);
        row("softmax_forward_f32 (C=100)", 2L * 4 * logits.numel(), t.medianMs(3, 20, () -> b.softmaxLoss().softmax(logits, 4, false, probs)), copyGbs);
    }

    private static Tensor random(int n, long seed) {
        Tensor h = Tensor.uniform(new Rng(seed), DType.F32, -1, 1, n);
        return CudaTensors.toDevice(h);
    }

    private static void row(String name, long bytes, double ms, double copyGbs) {
        double gbs = bytes / ms / 1e6;
        System.out.printf(Locale.ROOT, "%-28s %10d %10.4f %9.1f %7.0f%%%n", name, bytes >> 20, ms, gbs, 100 * gbs / copyGbs);
    }
}

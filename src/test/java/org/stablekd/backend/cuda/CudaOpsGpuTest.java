package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;

import java.util.function.Function;
import org.stablekd.testing.TestData;
import org.stablekd.testing.Close;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.models.Zoo;
import org.stablekd.nn.DeviceSlab;
import org.stablekd.nn.Model;
import org.stablekd.ops.Distill;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Norm;
import org.stablekd.ops.Pointwise;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/**
 * GPU checks beyond the op registry: copies, SGD over a slab, determinism, the allocator's steady
 * state and the pinned uploader (the fused ops: {@link FusedOpsGpuTest}). Skipped with the reason
 * where there is no GPU.
 */
@Tag("gpu")
class CudaOpsGpuTest {
    private static final Device GPU = Device.cuda(0);

    private static Tensor randn(long seed, int... dims) {
        return Tensor.randn(new Rng(seed), DType.F32, 1, dims);
    }

    private static Tensor labels(long seed, int n, int classes) {
        return TestData.labels(seed, n, classes);
    }

    @Test
    void hostDeviceRoundTripsKeepEveryDtype() {
        GpuTests.requireGpu();
        try (Scope s = Scope.open()) {
            Tensor f = randn(1, 3, 5, 7);
            Close.assertBitIdentical(f.toFloatArray(), CudaTensors.toHost(CudaTensors.toDevice(f)).toFloatArray());
            Tensor i = labels(2, 37, 10);
            assertArrayEquals(i.toIntArray(), CudaTensors.toHost(CudaTensors.toDevice(i)).toIntArray());
            Tensor strided = f.permuteView(2, 0, 1);  // non-contiguous host view
            Close.assertBitIdentical(strided.toFloatArray(), CudaTensors.toHost(CudaTensors.toDevice(strided)).toFloatArray());
            Tensor onGpu = CudaTensors.toDevice(f).permuteView(1, 2, 0);  // non-contiguous device view
            Close.assertBitIdentical(f.permuteView(1, 2, 0).toFloatArray(), CudaTensors.toHost(onGpu).toFloatArray());
        }
    }

    @Test
    void dkdWithAConfidentTeacher() {
        GpuTests.requireGpu();
        try (Scope s = Scope.open()) {
            Tensor student = randn(3, 4, 19), teacher = randn(4, 4, 19), y = labels(5, 4, 19);
            for (int r = 0; r < 4; r++) teacher.set(teacher.get(r, (int) y.getFlat(r)) + 40, r, (int) y.getFlat(r));
            compareLossAndStudentGrad(st -> Distill.dkdLoss(st[0], st[1], st[2], 1, 8, 4), student, teacher, y);
        }
    }

    @Test
    void outOfRangeLabelsGiveNaNOnTheGpu() {
        GpuTests.requireGpu();
        try (Scope s = Scope.open()) {
            Tensor logits = CudaTensors.toDevice(randn(6, 3, 5));
            Tensor bad = CudaTensors.toDevice(Tensor.ofInts(new int[] {0, 5, 1}, 3));
            assertTrue(Double.isNaN(CudaTensors.toHost(Losses.crossEntropy(logits, bad)).item()));
        }
    }

    /** loss and d loss/d student on the GPU vs the cpu backend; inputs (student, teacher, labels) made on the host. */
    private static void compareLossAndStudentGrad(Function<Tensor[], Tensor> loss, Tensor student, Tensor teacher, Tensor labels) {
        Tensor sc = student.detach().requiresGrad(true);
        Tensor lc = loss.apply(new Tensor[] {sc, teacher, labels});
        Autograd.backward(lc);
        Tensor sg = CudaTensors.toDevice(student).requiresGrad(true);
        Tensor lg = loss.apply(new Tensor[] {sg, CudaTensors.toDevice(teacher), CudaTensors.toDevice(labels)});
        Autograd.backward(lg);
        assertClose(CudaTensors.toHost(lg), lc, Tolerance.CUDA_VS_CPU, "loss");
        assertClose(CudaTensors.toHost(sg.grad()), sc.grad(), Tolerance.CUDA_VS_CPU, "d loss / d student");
    }

    @Test
    void sgdOverASlabMatchesTheCpu() {
        GpuTests.requireGpu();
        for (boolean nesterov : new boolean[] {false, true}) {
            try (Scope s = Scope.open()) {
                Tensor p = randn(20, 1003), g = randn(21, 1003), m = randn(22, 1003);
                Tensor pd = CudaTensors.toDevice(p), gd = CudaTensors.toDevice(g), md = CudaTensors.toDevice(m);
                Backends.cpu().optimizer().sgd(p, g, m, 0.05, 0.9, 5e-4, nesterov);
                Backends.select(Op.SGD_STEP, DType.F32, GPU).optimizer().sgd(pd, gd, md, 0.05, 0.9, 5e-4, nesterov);
                assertClose(CudaTensors.toHost(pd), p, Tolerance.CUDA_VS_CPU, "params, nesterov " + nesterov);
                assertClose(CudaTensors.toHost(md), m, Tolerance.CUDA_VS_CPU, "momentum, nesterov " + nesterov);
            }
        }
    }

    @Test
    void aTrainingStepIsDeterministicAndAllocatesNothingNewAfterTheFirst() {
        CudaBackend cuda = GpuTests.requireGpu();
        Model model = Zoo.create("resnet8", 10, new Rng(1));
        DeviceSlab slab = DeviceSlab.pack(model, GPU);
        Tensor x = CudaTensors.toDevice(randn(30, 8, 3, 32, 32)), y = CudaTensors.toDevice(labels(31, 8, 10));
        float[] firstGrads = null;
        long freshAfterFirst = -1;
        for (int step = 0; step < 4; step++) {
            try (Scope s = Scope.open()) {
                Backends.select(Op.FILL, DType.F32, GPU).pointwise().fill(slab.grads(), 0);
                Autograd.backward(Losses.crossEntropy(model.forward(x), y));
                float[] grads = CudaTensors.toHost(slab.grads()).toFloatArray();
                if (firstGrads == null) firstGrads = grads;
                else Close.assertBitIdentical(firstGrads, grads, "step " + step + ": same inputs, same weights, bit-identical gradients");
            }
            if (step == 1) freshAfterFirst = cuda.freshBlocks();
        }
        assertEquals(freshAfterFirst, cuda.freshBlocks(), "steps after the second allocated new device blocks: " + cuda.memoryStats());
    }

    @Test
    void pinnedUploadsArriveIntact() {
        GpuTests.requireGpu();
        try (PinnedUploader up = new PinnedUploader(); Scope s = Scope.open()) {
            Tensor previous = null;
            float[] previousValues = null;
            for (int i = 0; i < 5; i++) {
                Tensor host = randn(40 + i, 16, 3, 8, 8);
                Tensor dev = up.upload(host);
                Close.assertBitIdentical(host.toFloatArray(), CudaTensors.toHost(dev).toFloatArray(), "batch " + i);
                if (previous != null) Close.assertBitIdentical(previousValues, CudaTensors.toHost(previous).toFloatArray(), "batch " + (i - 1) + " still intact");
                previous = dev;
                previousValues = host.toFloatArray();
            }
        }
    }

    @Test
    void thePrefetchLoopStepsOnIntactBatches() {
        // x(i+1) = upload(b(i+1)) is queued before the step on x(i): the step must still see b(i)
        // (UploadScheduleTest checks the event order on a model of the streams; this on the device)
        GpuTests.requireGpu();
        var copy = Backends.select(Op.COPY, DType.F32, GPU).copy();
        try (PinnedUploader up = new PinnedUploader(); Scope s = Scope.open()) {
            Tensor[] hosts = new Tensor[6];
            for (int i = 0; i < hosts.length; i++) hosts[i] = randn(60 + i, 64, 3, 32, 32);
            Tensor[] seen = new Tensor[hosts.length];
            Tensor x = up.upload(hosts[0]);
            for (int i = 0; i < hosts.length; i++) {
                Tensor next = i + 1 < hosts.length ? up.upload(hosts[i + 1]) : null;
                seen[i] = Tensor.empty(DType.F32, hosts[i].shape(), GPU);
                for (int r = 0; r < 20; r++) copy.copy(x, seen[i]);  // a step long enough for the next upload to race it
                x = next;
            }
            // read back only now: a host sync per step would hide the race
            for (int i = 0; i < hosts.length; i++) {
                Close.assertBitIdentical(hosts[i].toFloatArray(), CudaTensors.toHost(seen[i]).toFloatArray(), "step on batch " + i);
            }
        }
    }

    @Test
    void cudnnOverwritesItsOutputsEveryCall() {
        // beta must be exactly 0: outputs pre-filled with NaN, three calls of one shape (the
        // first chooses the algorithm, the later ones reuse it), each against the cpu backend
        CudaBackend cuda = GpuTests.requireGpu();
        var g = org.stablekd.backend.ConvGeometry.of(4, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1);
        var cpu = Backends.cpu().conv();
        var fill = cuda.pointwise();
        Tensor x = randn(70, 4, 8, 10, 10), w = randn(71, 16, 8, 3, 3), b = randn(72, 16), dy = randn(73, 4, 16, 10, 10);
        Tensor y = Tensor.empty(DType.F32, dy.shape()), dx = Tensor.empty(DType.F32, x.shape());
        Tensor dw = Tensor.empty(DType.F32, w.shape()), db = Tensor.empty(DType.F32, b.shape());
        cpu.forward(g, x, w, b, y);
        cpu.backwardInput(g, dy, w, dx);
        cpu.backwardWeight(g, x, dy, dw, db);
        try (Scope s = Scope.open()) {
            Tensor gx = CudaTensors.toDevice(x), gw = CudaTensors.toDevice(w), gb = CudaTensors.toDevice(b), gdy = CudaTensors.toDevice(dy);
            Tensor gy = Tensor.empty(DType.F32, y.shape(), GPU), gdx = Tensor.empty(DType.F32, x.shape(), GPU);
            Tensor gdw = Tensor.empty(DType.F32, w.shape(), GPU), gdb = Tensor.empty(DType.F32, b.shape(), GPU);
            for (int call = 0; call < 3; call++) {
                for (Tensor t : new Tensor[] {gy, gdx, gdw, gdb}) fill.fill(t, Float.NaN);
                cuda.conv().forward(g, gx, gw, gb, gy);
                cuda.conv().backwardInput(g, gdy, gw, gdx);
                cuda.conv().backwardWeight(g, gx, gdy, gdw, gdb);
                assertClose(CudaTensors.toHost(gy).toFloatArray(), y.toFloatArray(), Tolerance.CUDA_VS_CPU, "y, call " + call);
                assertClose(CudaTensors.toHost(gdx).toFloatArray(), dx.toFloatArray(), Tolerance.CUDA_VS_CPU, "dx, call " + call);
                assertClose(CudaTensors.toHost(gdw).toFloatArray(), dw.toFloatArray(), Tolerance.CUDA_VS_CPU, "dw, call " + call);
                assertClose(CudaTensors.toHost(gdb).toFloatArray(), db.toFloatArray(), Tolerance.CUDA_VS_CPU, "dbias, call " + call);
            }
        }
    }
}

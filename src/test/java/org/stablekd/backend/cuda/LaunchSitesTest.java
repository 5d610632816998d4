package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.Op;
import org.stablekd.backend.PoolGeometry;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Every kernel launch site of the CUDA backend, driven on the CPU at the largest shapes the
 * project trains with (activations 256×64×32×32, logits 8192×1000): a recording KernelModule
 * stands in for the GPU and fake device memory for the allocator, so the host side of each launch
 * runs exactly as it would there. Checked per launch: the packed arguments against the kernel's
 * {@code extern "C"} signature (the Kernel table, which KernelSourcesTest checks against the .cu
 * files), the block a multiple of 32 (the shuffle reductions use full warp masks) and at most 1024,
 * the grid in [1, 2³¹−1], every size argument positive and equal to the size computed in 64 bits
 * (no int overflow), and every pointer inside a device allocation; and every kernel is launched.
 */
class LaunchSitesTest {
    static final int N = 256, C = 64, H = 32, W = 32, ROWS = 8192, CLASSES = 1000;

    record Launch(Kernel kernel, int grid, int block, List<Object> args) {
        long i64(int i) { return (Long) args.get(i); }
        int i32(int i) { return (Integer) args.get(i); }
        long ptr(int i) { return (Long) args.get(i); }
    }

    /** Device memory that is never touched: increasing fake addresses, each allocation remembered. */
    static final class FakeMemory implements DriverMemory {
        final TreeMap<Long, Long> blocks = new TreeMap<>();
        private long next = 0x7f00_0000_0000L;

        @Override public Device device() { return Device.cuda(0); }
        @Override public void makeCurrent() {}
        @Override public synchronized int alloc(long[] out, long bytes) {
            out[0] = next;
            blocks.put(next, bytes);
            next += (bytes + 511) / 512 * 512 + 512;
            return 0;
        }
        @Override public int free(long ptr) { return 0; }
        @Override public int poison(long ptr, long bytes) { return 0; }
        @Override public void sync() {}

        boolean contains(long ptr) {
            var e = blocks.floorEntry(ptr);
            return e != null && ptr < e.getKey() + e.getValue();
        }
    }

    /** The GPU's stand-in: checks each launch's arguments as the real one does, then records it decoded. */
    static final class Recorder extends KernelModule {
        final List<Launch> launches = new ArrayList<>();

        Recorder() {
            super("recorder");
        }

        @Override
        void launch(Kernel k, int grid, int block, KernelArgs args) {
            args.check(k);
            String[] types = k.signature.split(" ");
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < types.length; i++) {
                var s = args.argument(i);
                values.add(switch (types[i]) {
                    case "ptr", "i64" -> s.get(ValueLayout.JAVA_LONG, 0);
                    case "i32" -> s.get(ValueLayout.JAVA_INT, 0);
                    case "f32" -> s.get(ValueLayout.JAVA_FLOAT, 0);
                    case "f64" -> s.get(ValueLayout.JAVA_DOUBLE, 0);
                    case "layout" -> "layout rank " + s.get(ValueLayout.JAVA_INT, 3L * KernelArgs.LAYOUT_RANK * 8);
                    default -> throw new AssertionError("unknown signature token " + types[i]);
                });
            }
            launches.add(new Launch(k, grid, block, values));
        }
    }

    final FakeMemory memory = new FakeMemory();
    final CudaAllocator allocator = new CudaAllocator(memory, false);
    final Recorder recorder = new Recorder();
    final CudaRuntime rt = new CudaRuntime(null, recorder, allocator);

    /** Tensor names by device address, to print a launch's pointers as the tensors they are. */
    final java.util.Map<Long, String> names = new java.util.HashMap<>();

    Tensor dev(String name, DType dtype, int... dims) {
        Shape shape = Shape.of(dims);
        Tensor t = Tensor.wrap(allocator.allocate(Device.cuda(0), shape.numel() * dtype.bytes), 0, dtype, shape);
        names.put(CudaRuntime.ptr(t), name);
        return t;
    }

    Tensor f32(String name, int... dims) {
        return dev(name, DType.F32, dims);
    }

    /** A launch as symbol(arguments), pointers by tensor name ("tmp": a temporary of the launch site, "null": 0). */
    String render(Launch l) {
        StringBuilder sb = new StringBuilder(l.kernel().symbol()).append('(');
        String[] types = l.kernel().signature.split(" ");
        for (int i = 0; i < types.length; i++) {
            if (i > 0) sb.append(", ");
            Object v = l.args().get(i);
            sb.append(types[i].equals("ptr") ? ((Long) v == 0 ? "null" : names.getOrDefault((Long) v, "tmp")) : String.valueOf(v));
        }
        return sb.append(')').toString();
    }

    /** Runs every launch site of every kernel family once, at the largest shapes. */
    List<Launch> everyLaunchSite() {
        Tensor x = f32("x", N, C, H, W), y = f32("y", N, C, H, W), dy = f32("dy", N, C, H, W), dx = f32("dx", N, C, H, W);
        Tensor one = f32("one"), two = f32("two");
        var pw = new CudaPointwise(rt);
        for (Op op : List.of(Op.RELU, Op.RELU6, Op.SCALE, Op.ADD_SCALAR)) pw.unary(op, x, 0.5, y);
        for (Op op : List.of(Op.ADD, Op.SUB, Op.MUL, Op.ADD_RELU)) pw.binary(op, x, y, dx);
        for (Op op : List.of(Op.RELU, Op.RELU6, Op.ADD_RELU)) pw.activationBackward(op, x, dy, dx);
        pw.axpy(x, 0.5, y, dx);
        pw.fillFromScalar(one, 0.5, dx);

        var norm = new CudaNorm(rt);
        Tensor g = f32("g", C), b = f32("b", C), rm = f32("rm", C), rv = f32("rv", C), mean = f32("mean", C), inv = f32("inv", C), affine = f32("affine", 2 * C), dg = f32("dg", C), db = f32("db", C);
        norm.batchNormTrain(x, g, b, rm, rv, 0.1, 1e-5, y, mean, inv);
        norm.batchNormEval(x, g, b, rm, rv, 1e-5, y);
        norm.batchNormTrainRelu(x, g, b, rm, rv, 0.1, 1e-5, y, mean, inv, affine);
        norm.batchNormEvalRelu(x, g, b, rm, rv, 1e-5, y, affine);
        norm.batchNormBackward(x, dy, g, mean, inv, true, dx, dg, db);
        norm.batchNormReluBackward(x, y, affine, dy, g, mean, inv, false, dx, null, null);

        var reduce = new CudaReduce(rt);
        reduce.sum(x, one);
        Tensor s = f32("s", ROWS, CLASSES), t = f32("t", ROWS, CLASSES), ds = f32("ds", ROWS, CLASSES), dt = f32("dt", ROWS, CLASSES);
        Tensor labels = dev("labels", DType.I32, ROWS), row = f32("row", CLASSES);
        reduce.sumRows(s, row);
        reduce.topkHits(s, labels, 5, two);

        var sl = new CudaSoftmaxLoss(rt, reduce);
        sl.softmax(s, 4, false, ds);
        sl.softmaxBackward(s, t, 4, true, ds);
        sl.crossEntropy(s, labels, 0.1, one);
        sl.crossEntropyBackward(s, labels, 0.1, one, ds);
        sl.kdLoss(s, t, 4, one);
        sl.kdLossBackward(s, t, 4, one, ds, dt);
        sl.kdCrossEntropy(s, t, labels, 4, 0.1, 0.9, one);
        sl.kdCrossEntropyBackward(s, t, labels, 4, 0.1, 0.9, two, ds);

        var distill = new CudaDistill(rt, reduce);
        distill.dkdLoss(s, t, labels, 1, 8, 4, one);
        distill.dkdLossBackward(s, t, labels, 1, 8, 4, two, ds);
        Tensor q = f32("q", N, H * W), a = f32("a", N, H * W);
        distill.attentionMap(x, 1e-12, q, a);
        distill.attentionMapBackward(x, q, a, 1e-12, dx);

        var rl = new CudaRegressionLoss(rt, reduce);
        rl.mse(x, y, one);
        rl.mseBackward(x, y, one, dx, null);

        var pool = new CudaPool(rt);
        PoolGeometry pg = PoolGeometry.of(N, C, H, W, 3, 3, 2, 2, 1, 1, false);
        Tensor py = f32("py", N, C, pg.p(), pg.q()), arg = dev("arg", DType.I32, N, C, pg.p(), pg.q());
        pool.maxForward(pg, x, py, arg);
        pool.maxBackward(pg, py, arg, dx);
        pool.avgForward(pg, x, py);
        pool.avgBackward(pg, py, dx);
        Tensor gp = f32("gp", N, C);
        pool.globalAvgForward(x, gp);
        pool.globalAvgBackward(gp.viewAs(N, C, 1, 1), dx);

        Tensor params = f32("params", 23_000_000);
        new CudaOptimizer(rt).sgd(params, f32("grads", 23_000_000), f32("buf", 23_000_000), 0.1, 0.9, 5e-4, true);

        var copy = new CudaCopy(rt);
        for (DType d : List.of(DType.F32, DType.F64, DType.BF16)) {
            Tensor src = dev("src", d, N, C, H, W);
            copy.copy(src.permuteView(0, 2, 3, 1), dev("dst", d, N, H, W, C));
        }
        return recorder.launches;
    }

    /**
     * The arguments in the order of each kernel's parameters, values included: the signature
     * check cannot tell two pointers or two floats apart. Each line was read against the
     * {@code extern "C"} parameter names in src/main/cuda (issue 15's desk check); a change to a
     * launch site or a kernel's parameters must be read again and this list updated.
     */
    @Test
    void argumentsAreInTheOrderOfTheKernelParameters() {
        String expected = """
            relu_forward_f32(x, y, 16777216)
            relu6_forward_f32(x, y, 16777216)
            scale_f32(x, y, 16777216, 0.5)
            add_scalar_f32(x, y, 16777216, 0.5)
            add_f32(x, y, dx, 16777216)
            sub_f32(x, y, dx, 16777216)
            mul_f32(x, y, dx, 16777216)
            add_relu_f32(x, y, dx, 16777216)
            relu_backward_f32(x, dy, dx, 16777216)
            relu6_backward_f32(x, dy, dx, 16777216)
            relu_backward_f32(x, dy, dx, 16777216)
            axpy_f32(x, 0.5, y, dx, 16777216)
            fill_from_scalar_f32(one, 0.5, dx, 16777216)
            batchnorm_stats_f32(x, 256, 64, 1024, 0.1, 1.0E-5, mean, inv, rm, rv)
            batchnorm_apply_f32(x, mean, inv, g, b, y, 64, 1024, 16777216)
            batchnorm_eval_f32(x, rm, rv, g, b, y, 64, 1024, 16777216, 1.0E-5)
            batchnorm_stats_f32(x, 256, 64, 1024, 0.1, 1.0E-5, mean, inv, rm, rv)
            bn_apply_relu_f32(x, mean, inv, g, b, y, 64, 1024, 16777216)
            bn_eval_relu_f32(x, rm, rv, g, b, y, 64, 1024, 16777216, 1.0E-5)
            batchnorm_backward_reduce_f32(x, dy, null, mean, inv, db, dg, 256, 64, 1024)
            batchnorm_backward_dx_f32(x, dy, null, mean, inv, g, db, dg, dx, 64, 1024, 16777216, 3.8146973E-6, 1)
            batchnorm_backward_dx_f32(x, dy, y, mean, inv, g, tmp, tmp, dx, 64, 1024, 16777216, 3.8146973E-6, 0)
            sum_partials_f32(x, 16777216, tmp)
            sum_final_f32(tmp, 1024, 1.0, one)
            sum_rows_f32(s, 8192, 1000, row)
            topk_hits_f32(s, labels, 8192, 1000, 5, two)
            softmax_forward_f32(s, ds, 1000, 0.25, 0)
            softmax_backward_f32(s, t, ds, 1000, 0.25, 1)
            cross_entropy_rows_f32(s, labels, tmp, 1000, 0.1)
            sum_rows_final_f32(tmp, 8192, 1.220703125E-4, one)
            cross_entropy_backward_f32(s, labels, one, ds, 1000, 0.1, 1.2207031E-4)
            kd_loss_rows_f32(s, t, tmp, 1000, 0.25)
            sum_rows_final_f32(tmp, 8192, 0.001953125, one)
            kd_loss_backward_f32(s, t, one, ds, dt, 1000, 0.25, 4.8828125E-4)
            kd_ce_fused_f32(s, t, labels, null, tmp, null, 1000, 4.0, 0.9, 0.1, 1.2207031E-4)
            sum_rows_final_f32(tmp, 8192, 1.220703125E-4, one)
            kd_ce_fused_f32(s, t, labels, two, null, ds, 1000, 4.0, 0.9, 0.1, 1.2207031E-4)
            dkd_loss_rows_f32(s, t, labels, tmp, 1000, 0.25, 1.0, 8.0)
            sum_rows_final_f32(tmp, 8192, 0.001953125, one)
            dkd_loss_backward_f32(s, t, labels, two, ds, 1000, 0.25, 1.0, 8.0, 4.8828125E-4)
            attention_map_forward_f32(x, q, a, 64, 1024, 1.0E-12)
            attention_map_dq_f32(q, a, tmp, 1024, 1.0E-12)
            attention_map_backward_f32(x, tmp, dx, 64, 1024, 16777216)
            sum_sq_diff_partials_f32(x, y, 16777216, tmp)
            sum_final_f32(tmp, 1024, 5.960464477539063E-8, one)
            mse_backward_f32(x, y, one, 1.1920929E-7, dx, null, 16777216)
            max_pool_forward_f32(x, py, arg, 16384, 32, 32, 16, 16, 3, 3, 2, 2, 1, 1)
            max_pool_backward_f32(py, arg, dx, 16384, 32, 32, 16, 16, 3, 3, 2, 2, 1, 1)
            avg_pool_forward_f32(x, py, 16384, 32, 32, 16, 16, 3, 3, 2, 2, 1, 1)
            avg_pool_backward_f32(py, dx, 16384, 32, 32, 16, 16, 3, 3, 2, 2, 1, 1)
            global_avg_pool_forward_f32(x, gp, 16384, 1024)
            global_avg_pool_backward_f32(gp, dx, 16384, 1024)
            sgd_step_f32(params, grads, buf, 23000000, 0.1, 0.9, 5.0E-4, 1)
            copy_strided_b4(src, dst, layout rank 3, 16777216)
            copy_strided_b8(src, dst, layout rank 3, 16777216)
            copy_strided_b2(src, dst, layout rank 3, 16777216)
            """;
        StringBuilder actual = new StringBuilder();
        for (Launch l : everyLaunchSite()) actual.append(render(l)).append('\n');
        assertEquals(expected, actual.toString());
    }

    @Test
    void everyKernelIsLaunchedWithItsSignatureAndSafeGeometry() {
        List<Launch> launches = everyLaunchSite();
        Set<Kernel> launched = EnumSet.noneOf(Kernel.class);
        for (Launch l : launches) {
            launched.add(l.kernel());
            String where = l.kernel().symbol() + " " + l.args();
            assertTrue(l.block() % 32 == 0 && l.block() >= 32 && l.block() <= 1024, "block " + l.block() + ": " + where);
            assertTrue(l.grid() >= 1, "grid " + l.grid() + ": " + where);
            String[] types = l.kernel().signature.split(" ");
            for (int i = 0; i < types.length; i++) {
                switch (types[i]) {
                    case "i32" -> assertTrue(l.i32(i) >= 0, "int argument " + i + " negative (overflow?): " + where);
                    case "i64" -> assertTrue(l.i64(i) > 0, "count argument " + i + ": " + where);
                    case "ptr" -> assertTrue(l.ptr(i) == 0 || memory.contains(l.ptr(i)), "pointer argument " + i + " outside device memory: " + where);
                    default -> { }
                }
            }
        }
        assertEquals(EnumSet.allOf(Kernel.class), launched, "kernels without a launch site here: add them to everyLaunchSite");
    }

    @Test
    void gridsAndCountsMatchTheShapesComputedIn64Bits() {
        long act = (long) N * C * H * W;
        for (Launch l : everyLaunchSite()) {
            String where = l.kernel().symbol() + " " + l.args();
            switch (l.kernel()) {
                // one block per row of the logits, ROW_THREADS threads, cols = classes
                case SOFTMAX_FORWARD_F32, SOFTMAX_BACKWARD_F32, CROSS_ENTROPY_ROWS_F32, CROSS_ENTROPY_BACKWARD_F32, KD_LOSS_ROWS_F32,
                     KD_LOSS_BACKWARD_F32, KD_CE_FUSED_F32, DKD_LOSS_ROWS_F32, DKD_LOSS_BACKWARD_F32 -> {
                    assertEquals(ROWS, l.grid(), where);
                    assertEquals(KernelModule.ROW_THREADS, l.block(), where);
                    assertTrue(l.args().contains(CLASSES), where);
                }
                // one block per channel; n, c, hw as ints
                case BATCHNORM_STATS_F32 -> assertChannels(l, 1, where);
                case BATCHNORM_BACKWARD_REDUCE_F32 -> assertChannels(l, 7, where);
                // elementwise over the activations: the i64 count is the numel, the grid covers it (grid-stride)
                case BATCHNORM_APPLY_F32, BATCHNORM_EVAL_F32, BN_APPLY_RELU_F32, BN_EVAL_RELU_F32, BATCHNORM_BACKWARD_DX_F32 -> {
                    int at = l.kernel() == Kernel.BATCHNORM_BACKWARD_DX_F32 ? 9 : 6;
                    assertEquals(C, l.i32(at), where);
                    assertEquals(H * W, l.i32(at + 1), where);
                    assertEquals(act, l.i64(at + 2), where);
                    assertElementwise(l, act, where);
                }
                case RELU_FORWARD_F32, RELU6_FORWARD_F32, SCALE_F32, ADD_SCALAR_F32 -> { assertEquals(act, l.i64(2), where); assertElementwise(l, act, where); }
                case ADD_F32, SUB_F32, MUL_F32, ADD_RELU_F32, RELU_BACKWARD_F32, RELU6_BACKWARD_F32 -> {
                    assertEquals(act, l.i64(3), where);
                    assertElementwise(l, act, where);
                }
                case AXPY_F32 -> { assertEquals(act, l.i64(4), where); assertElementwise(l, act, where); }
                case ATTENTION_MAP_FORWARD_F32, ATTENTION_MAP_DQ_F32 -> {
                    assertEquals(N, l.grid(), where);
                    assertTrue(l.args().contains(H * W), where);
                }
                case ATTENTION_MAP_BACKWARD_F32 -> { assertEquals(act, l.i64(5), where); assertElementwise(l, act, where); }
                case SUM_PARTIALS_F32, SUM_SQ_DIFF_PARTIALS_F32 -> {
                    assertEquals(act, l.i64(l.kernel() == Kernel.SUM_PARTIALS_F32 ? 1 : 2), where);
                    assertEquals(KernelModule.THREADS, l.block(), where);
                    assertTrue(l.grid() <= CudaReduce.MAX_PARTIALS, where);
                }
                case SUM_FINAL_F32, SUM_ROWS_FINAL_F32 -> {
                    assertEquals(1, l.grid(), "the final pass is one block: " + where);
                    assertEquals(CudaReduce.FINAL_THREADS, l.block(), where);
                }
                case SUM_ROWS_F32 -> assertTrue((long) l.grid() * l.block() >= CLASSES, where);
                case TOPK_HITS_F32 -> {
                    assertEquals(1, l.grid(), "one block walks the rows: " + where);
                    assertEquals(CudaReduce.FINAL_THREADS, l.block(), where);
                    assertEquals(ROWS, l.i32(2), where);
                }
                case MAX_POOL_FORWARD_F32, AVG_POOL_FORWARD_F32 -> assertElementwise(l, (long) N * C * 16 * 16, where);
                case MAX_POOL_BACKWARD_F32, AVG_POOL_BACKWARD_F32, GLOBAL_AVG_POOL_BACKWARD_F32 -> assertElementwise(l, act, where);
                case GLOBAL_AVG_POOL_FORWARD_F32 -> assertEquals((long) N * C, (long) l.grid() * (l.block() / 32), "one warp per plane: " + where);
                case SGD_STEP_F32 -> { assertEquals(23_000_000L, l.i64(3), where); assertElementwise(l, 23_000_000L, where); }
                case FILL_FROM_SCALAR_F32 -> assertEquals(act, l.i64(3), where);
                case MSE_BACKWARD_F32 -> assertEquals(act, l.i64(6), where);
                case COPY_STRIDED_B2, COPY_STRIDED_B4, COPY_STRIDED_B8 -> { assertEquals(act, l.i64(3), where); assertElementwise(l, act, where); }
            }
        }
    }

    @Test
    void cudnnRefusesAStridedTensorItsPackedDescriptorsWouldMisread() {
        var conv = new CudnnConv(rt);
        var g = org.stablekd.backend.ConvGeometry.of(8, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1);
        Tensor x = f32("x", 8, 16, 8, 8), w = f32("w", 16, 16, 3, 3), dw = f32("dw", 16, 16, 3, 3);
        Tensor dyStrided = f32("dy2", 8, 32, 8, 8).narrowView(1, 16, 16);  // a concat's gradient, viewed
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> conv.backwardWeight(g, x, dyStrided, dw, null));
        assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
        assertTrue(recorder.launches.isEmpty());
    }

    private static void assertChannels(Launch l, int firstInt, String where) {
        assertEquals(C, l.grid(), "one block per channel: " + where);
        assertEquals(CudaNorm.CHANNEL_THREADS, l.block(), where);
        assertEquals(N, l.i32(firstInt), where);
        assertEquals(C, l.i32(firstInt + 1), where);
        assertEquals(H * W, l.i32(firstInt + 2), where);
    }

    private static void assertElementwise(Launch l, long n, String where) {
        assertEquals(KernelModule.THREADS, l.block(), where);
        assertEquals(KernelModule.gridFor(n), l.grid(), where);
        assertTrue((long) l.grid() * l.block() >= n || l.grid() == KernelModule.MAX_GRID, "the grid-stride loop covers n: " + where);
    }
}

package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CROSS_CORRELATION;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NCHW;
import static org.bytedeco.cuda.global.cudnn.cudnnAddTensor;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardBias;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardData;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardFilter;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionForward;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateConvolutionDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateFilterDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroyConvolutionDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroyFilterDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnDestroyTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionForwardAlgorithmEx;
import static org.bytedeco.cuda.global.cudnn.cudnnGetConvolutionBackwardDataAlgorithm_v7;
import static org.bytedeco.cuda.global.cudnn.cudnnGetConvolutionBackwardFilterAlgorithm_v7;
import static org.bytedeco.cuda.global.cudnn.cudnnGetConvolutionForwardAlgorithm_v7;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolution2dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionGroupCount;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionMathType;
import static org.bytedeco.cuda.global.cudnn.cudnnSetFilter4dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetTensor4dDescriptor;
import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.IntFunction;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.Pointer;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.Op;
import org.stablekd.backend.cuda.ConvAlgorithms.Candidate;
import org.stablekd.backend.cuda.ConvAlgorithms.Direction;
import org.stablekd.tensor.Tensor;

/**
 * Convolution through cuDNN 9 (NCHW float32): forward, backward-data and backward-filter, bias
 * add and bias gradient. Per shape ({@link ConvGeometry}, batch size included, since cuDNN's
 * tensor descriptors carry it) a {@link Plan} holds the descriptors and, per direction, the
 * algorithm chosen by {@link ConvAlgorithms}: in deterministic mode (the default) from cuDNN's
 * v7 heuristic in a fixed preference order, so every process runs the same algorithms; with
 * -Dstablekd.cuda.deterministic=false the fastest that cudnnFind*AlgorithmEx measures on the
 * real buffers. Either way the choice is made once per shape; a short last batch or the
 * evaluation batch is one more shape (one more heuristic query, or one more search). Plans live
 * in a bounded {@link PlanCache} that destroys the descriptors of an evicted plan, and
 * {@link #clear()} (from CudaBackend.emptyCache) destroys them all. The workspace is one buffer
 * of the limit's size, allocated on first use.
 *
 * <p>alpha/beta come from {@link HostScalars} (one allocation per scalar, see there why).
 *
 * <p>cuDNN 9 marks this descriptor API ("legacy", libcudnn_cnn) deprecated in favour of its
 * graph API; it is still shipped and is what PyTorch's fallback uses. Moving to the graph API
 * (needed for fused conv+bias+ReLU graphs) is future work, hence the suppressed warnings.
 */
@SuppressWarnings("deprecation")
final class CudnnConv implements ConvKernels {
    /** RESIDUAL_CHAIN: chainsResidualBlocksInTraining is false here, so the frontend runs the chain as its ops (conv2d, batch norms). */
    static final Set<Op> SUPPORTED = EnumSet.of(Op.CONV2D, Op.RESIDUAL_CHAIN);
    /** Shapes with descriptors kept at once (a model has a few dozen conv shapes per batch size). */
    static final int PLAN_CAPACITY = 256;

    private final CudaRuntime rt;
    private final PlanCache<ConvGeometry, Plan> plans = new PlanCache<>(PLAN_CAPACITY);
    private long workspace;

    CudnnConv(CudaRuntime rt) {
        this.rt = rt;
    }

    /** An algorithm chosen for one direction: its workspace bytes and the math type to run it with. */
    record Choice(int algo, long bytes, int math) {}

    /** Descriptors of one convolution shape and the algorithms chosen for it (null: not chosen yet). */
    static final class Plan implements AutoCloseable {
        final cudnnTensorStruct x = new cudnnTensorStruct(), y = new cudnnTensorStruct(), bias = new cudnnTensorStruct();
        final cudnnFilterStruct w = new cudnnFilterStruct();
        final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        Choice fwd, bwdData, bwdFilter;
        int math;  // the conv descriptor's current math type

        /** Destroys the descriptors that were created (cuDNN copies what it needs at each call, so queued work is unaffected). */
        @Override
        public void close() {
            for (cudnnTensorStruct t : new cudnnTensorStruct[] {x, y, bias}) {
                if (!t.isNull()) Check.cudnn(cudnnDestroyTensorDescriptor(t), "cudnnDestroyTensorDescriptor");
            }
            if (!w.isNull()) Check.cudnn(cudnnDestroyFilterDescriptor(w), "cudnnDestroyFilterDescriptor");
            if (!conv.isNull()) Check.cudnn(cudnnDestroyConvolutionDescriptor(conv), "cudnnDestroyConvolutionDescriptor");
        }
    }

    private Plan plan(ConvGeometry g) {
        return plans.get(g, this::describe);
    }

    private Plan describe(ConvGeometry g) {
        Plan p = new Plan();
        try {
            Check.cudnn(cudnnCreateTensorDescriptor(p.x), "cudnnCreateTensorDescriptor");
            Check.cudnn(cudnnCreateTensorDescriptor(p.y), "cudnnCreateTensorDescriptor");
            Check.cudnn(cudnnCreateTensorDescriptor(p.bias), "cudnnCreateTensorDescriptor");
            Check.cudnn(cudnnCreateFilterDescriptor(p.w), "cudnnCreateFilterDescriptor");
            Check.cudnn(cudnnCreateConvolutionDescriptor(p.conv), "cudnnCreateConvolutionDescriptor");
            String shape = " for " + g;
            Check.cudnn(cudnnSetTensor4dDescriptor(p.x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.n(), g.c(), g.h(), g.w()), "cudnnSetTensor4dDescriptor(x)" + shape);
            Check.cudnn(cudnnSetTensor4dDescriptor(p.y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, g.n(), g.k(), g.p(), g.q()), "cudnnSetTensor4dDescriptor(y)" + shape);
            Check.cudnn(cudnnSetTensor4dDescriptor(p.bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, g.k(), 1, 1), "cudnnSetTensor4dDescriptor(bias)" + shape);
            Check.cudnn(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, g.k(), g.cPerGroup(), g.r(), g.s()), "cudnnSetFilter4dDescriptor" + shape);
            Check.cudnn(cudnnSetConvolution2dDescriptor(p.conv, g.padH(), g.padW(), g.strideH(), g.strideW(), 1, 1,
                    CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor" + shape);
            Check.cudnn(cudnnSetConvolutionGroupCount(p.conv, g.groups()), "cudnnSetConvolutionGroupCount" + shape);
            p.math = ConvAlgorithms.searchMath(rt.ctx().tf32);
            Check.cudnn(cudnnSetConvolutionMathType(p.conv, p.math), "cudnnSetConvolutionMathType" + shape);
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Destroys every plan's descriptors and gives the workspace back (the next convolution describes and chooses again). */
    synchronized void clear() {
        plans.clear();
        if (workspace != 0) {
            rt.allocator().giveBackRaw(workspace, rt.ctx().workspaceLimit);
            workspace = 0;
        }
    }

    private synchronized long workspace() {
        if (workspace == 0) workspace = rt.allocator().allocateRaw(rt.ctx().workspaceLimit);
        return workspace;
    }

    private static Pointer dev(Tensor t) {
        return new RawPointer(ptr(t));
    }

    /** Rows 0..returned-1 of cuDNN's report as candidates. */
    private static List<Candidate> rows(int returned, IntFunction<Candidate> row) {
        List<Candidate> out = new ArrayList<>(returned);
        for (int i = 0; i < returned; i++) out.add(row.apply(i));
        return out;
    }

    private Choice choose(Direction d, List<Candidate> reported, ConvGeometry g) {
        CudaContext c = rt.ctx();
        Candidate chosen = ConvAlgorithms.choose(d, reported, c.deterministic, c.tf32, c.workspaceLimit);
        if (chosen == null) {
            throw new CudaException("cuDNN has no " + (c.deterministic ? "deterministic " : "") + d.label + " algorithm for " + g
                    + " within the " + (c.workspaceLimit >> 20) + " MiB workspace (cuDNN reported " + reported
                    + "; -Dstablekd.cuda.workspaceMiB, -Dstablekd.cuda.deterministic=false)");
        }
        return new Choice(chosen.algo(), chosen.memory(), ConvAlgorithms.runMath(chosen, c.tf32));
    }

    /** Sets the descriptor's math type to the chosen algorithm's before running it. */
    private static void useMath(Plan p, Choice c, ConvGeometry g) {
        if (p.math == c.math()) return;
        Check.cudnn(cudnnSetConvolutionMathType(p.conv, c.math()), "cudnnSetConvolutionMathType(" + c.math() + ") for " + g);
        p.math = c.math();
    }

    private Choice chooseForward(Plan p, ConvGeometry g, Tensor x, Tensor w, Tensor y) {
        var h = rt.ctx().cudnnHandle;
        int n = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
        try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(n)) {
            int[] returned = new int[1];
            if (rt.ctx().deterministic) {
                Check.cudnn(cudnnGetConvolutionForwardAlgorithm_v7(h, p.x, p.w, p.conv, p.y, n, returned, perf),
                        "cudnnGetConvolutionForwardAlgorithm_v7 for " + g);
            } else {
                Check.cudnn(cudnnFindConvolutionForwardAlgorithmEx(h, p.x, dev(x), p.w, dev(w), p.conv, p.y, dev(y), n, returned, perf,
                        new RawPointer(workspace()), rt.ctx().workspaceLimit), "cudnnFindConvolutionForwardAlgorithmEx for " + g);
            }
            return choose(Direction.FORWARD, rows(returned[0], i -> {
                cudnnConvolutionFwdAlgoPerf_t r = perf.getPointer(i);
                return new Candidate(r.algo(), r.status(), r.memory(), r.determinism(), r.mathType());
            }), g);
        }
    }

    private Choice chooseBackwardData(Plan p, ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        var h = rt.ctx().cudnnHandle;
        int n = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
        try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(n)) {
            int[] returned = new int[1];
            if (rt.ctx().deterministic) {
                Check.cudnn(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.w, p.y, p.conv, p.x, n, returned, perf),
                        "cudnnGetConvolutionBackwardDataAlgorithm_v7 for " + g);
            } else {
                Check.cudnn(cudnnFindConvolutionBackwardDataAlgorithmEx(h, p.w, dev(w), p.y, dev(dy), p.conv, p.x, dev(dx), n, returned, perf,
                        new RawPointer(workspace()), rt.ctx().workspaceLimit), "cudnnFindConvolutionBackwardDataAlgorithmEx for " + g);
            }
            return choose(Direction.BACKWARD_DATA, rows(returned[0], i -> {
                cudnnConvolutionBwdDataAlgoPerf_t r = perf.getPointer(i);
                return new Candidate(r.algo(), r.status(), r.memory(), r.determinism(), r.mathType());
            }), g);
        }
    }

    private Choice chooseBackwardFilter(Plan p, ConvGeometry g, Tensor x, Tensor dy, Tensor dw) {
        var h = rt.ctx().cudnnHandle;
        int n = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(n)) {
            int[] returned = new int[1];
            if (rt.ctx().deterministic) {
                Check.cudnn(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.x, p.y, p.conv, p.w, n, returned, perf),
                        "cudnnGetConvolutionBackwardFilterAlgorithm_v7 for " + g);
            } else {
                Check.cudnn(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p.x, dev(x), p.y, dev(dy), p.conv, p.w, dev(dw), n, returned, perf,
                        new RawPointer(workspace()), rt.ctx().workspaceLimit), "cudnnFindConvolutionBackwardFilterAlgorithmEx for " + g);
            }
            return choose(Direction.BACKWARD_FILTER, rows(returned[0], i -> {
                cudnnConvolutionBwdFilterAlgoPerf_t r = perf.getPointer(i);
                return new Candidate(r.algo(), r.status(), r.memory(), r.determinism(), r.mathType());
            }), g);
        }
    }

    @Override
    public void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        // the descriptors say packed NCHW: a strided view would be read as if it were packed
        for (Tensor t : new Tensor[] {x, w, bias, y}) CudaRuntime.f32(t, "conv2d");
        rt.ctx().makeCurrent();
        Plan p = plan(g);
        var h = rt.ctx().cudnnHandle;
        HostScalars s = HostScalars.get();
        if (p.fwd == null) p.fwd = chooseForward(p, g, x, w, y);
        useMath(p, p.fwd, g);
        Check.cudnn(cudnnConvolutionForward(h, s.one, p.x, dev(x), p.w, dev(w), p.conv, p.fwd.algo(), new RawPointer(workspace()), p.fwd.bytes(),
                s.zero, p.y, dev(y)), "cudnnConvolutionForward for " + g);
        if (bias != null) {
            Check.cudnn(cudnnAddTensor(h, s.one, p.bias, dev(bias), s.one, p.y, dev(y)), "cudnnAddTensor (conv bias) for " + g);
        }
    }

    @Override
    public void backwardInput(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        for (Tensor t : new Tensor[] {dy, w, dx}) CudaRuntime.f32(t, "conv2d backward");
        rt.ctx().makeCurrent();
        Plan p = plan(g);
        HostScalars s = HostScalars.get();
        if (p.bwdData == null) p.bwdData = chooseBackwardData(p, g, dy, w, dx);
        useMath(p, p.bwdData, g);
        Check.cudnn(cudnnConvolutionBackwardData(rt.ctx().cudnnHandle, s.one, p.w, dev(w), p.y, dev(dy), p.conv, p.bwdData.algo(),
                new RawPointer(workspace()), p.bwdData.bytes(), s.zero, p.x, dev(dx)), "cudnnConvolutionBackwardData for " + g);
    }

    @Override
    public void backwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        for (Tensor t : new Tensor[] {x, dy, dw, dbias}) CudaRuntime.f32(t, "conv2d backward");
        rt.ctx().makeCurrent();
        Plan p = plan(g);
        var h = rt.ctx().cudnnHandle;
        HostScalars s = HostScalars.get();
        if (dw != null) {
            if (p.bwdFilter == null) p.bwdFilter = chooseBackwardFilter(p, g, x, dy, dw);
            useMath(p, p.bwdFilter, g);
            Check.cudnn(cudnnConvolutionBackwardFilter(h, s.one, p.x, dev(x), p.y, dev(dy), p.conv, p.bwdFilter.algo(), new RawPointer(workspace()),
                    p.bwdFilter.bytes(), s.zero, p.w, dev(dw)), "cudnnConvolutionBackwardFilter for " + g);
        }
        if (dbias != null) {
            Check.cudnn(cudnnConvolutionBackwardBias(h, s.one, p.y, dev(dy), s.zero, p.bias, dev(dbias)), "cudnnConvolutionBackwardBias for " + g);
        }
    }
}

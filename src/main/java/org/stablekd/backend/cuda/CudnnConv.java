package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CROSS_CORRELATION;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DATA_FLOAT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_NCHW;
import static org.bytedeco.cuda.global.cudnn.cudnnAddTensor;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardBias;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardData;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionBackwardFilter;
import static org.bytedeco.cuda.global.cudnn.cudnnConvolutionForward;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateConvolutionDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateFilterDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnCreateTensorDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardDataAlgorithmEx;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionBackwardFilterAlgorithmEx;
import static org.bytedeco.cuda.global.cudnn.cudnnFindConvolutionForwardAlgorithmEx;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolution2dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionGroupCount;
import static org.bytedeco.cuda.global.cudnn.cudnnSetConvolutionMathType;
import static org.bytedeco.cuda.global.cudnn.cudnnSetFilter4dDescriptor;
import static org.bytedeco.cuda.global.cudnn.cudnnSetTensor4dDescriptor;
import static org.stablekd.backend.cuda.CudaRuntime.ptr;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.stablekd.backend.ConvGeometry;
import org.stablekd.backend.ConvKernels;
import org.stablekd.backend.Op;
import org.stablekd.tensor.Tensor;

/**
 * Convolution through cuDNN 9 (NCHW float32): forward, backward-data and backward-filter, bias
 * add and bias gradient. Per shape ({@link ConvGeometry}) a {@link Plan} caches the descriptors and,
 * per direction, the algorithm cudnnFind*AlgorithmEx measured fastest on the real buffers among
 * those that fit the workspace limit and — unless -Dstablekd.cuda.deterministic=false — are
 * deterministic. The search runs once per shape (the first step), like cudnn.benchmark in
 * PyTorch; the workspace is one buffer of the limit's size, allocated on first use.
 *
 * <p>cuDNN 9 marks this descriptor API ("legacy", libcudnn_cnn) deprecated in favour of its
 * graph API; it is still shipped and is what PyTorch's fallback uses. Moving to the graph API
 * (needed for fused conv+bias+ReLU graphs) is future work, hence the suppressed warnings.
 */
@SuppressWarnings("deprecation")
final class CudnnConv implements ConvKernels {
    static final Set<Op> SUPPORTED = EnumSet.of(Op.CONV2D);

    private final CudaRuntime rt;
    private final Map<ConvGeometry, Plan> plans = new ConcurrentHashMap<>();
    private final ThreadLocal<FloatPointer> scalars = ThreadLocal.withInitial(() -> new FloatPointer(1f, 0f));
    private long workspace;

    CudnnConv(CudaRuntime rt) {
        this.rt = rt;
    }

    /** Descriptors of one convolution shape and the algorithms chosen for it (-1: not searched yet). */
    static final class Plan {
        final cudnnTensorStruct x = new cudnnTensorStruct(), y = new cudnnTensorStruct(), bias = new cudnnTensorStruct();
        final cudnnFilterStruct w = new cudnnFilterStruct();
        final cudnnConvolutionStruct conv = new cudnnConvolutionStruct();
        int fwdAlgo = -1, bwdDataAlgo = -1, bwdFilterAlgo = -1;
        long fwdBytes, bwdDataBytes, bwdFilterBytes;
    }

    private Plan plan(ConvGeometry g) {
        return plans.computeIfAbsent(g, this::describe);
    }

    private Plan describe(ConvGeometry g) {
        Plan p = new Plan();
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
        Check.cudnn(cudnnSetConvolutionMathType(p.conv, mathType()), "cudnnSetConvolutionMathType" + shape);
        return p;
    }

    private int mathType() {
        return rt.ctx().tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    }

    private synchronized long workspace() {
        if (workspace == 0) workspace = rt.allocator().allocateRaw(rt.ctx().workspaceLimit);
        return workspace;
    }

    private Pointer one() {
        return new FloatPointer(scalars.get()).position(0);
    }

    private Pointer zero() {
        return new FloatPointer(scalars.get()).position(1);
    }

    private static Pointer dev(Tensor t) {
        return new RawPointer(ptr(t));
    }

    /** Picks the first (fastest) result that succeeded, fits the limit and, if required, is deterministic. */
    private int choose(int returned, IntFn status, IntFn algo, IntFn determinism, LongFn memory, IntFn math, String what, ConvGeometry g) {
        for (int i = 0; i < returned; i++) {
            if (status.at(i) != CUDNN_STATUS_SUCCESS || memory.at(i) > rt.ctx().workspaceLimit) continue;
            if (rt.ctx().deterministic && determinism.at(i) != CUDNN_DETERMINISTIC) continue;
            if (math.at(i) != mathType()) continue;
            return i;
        }
        throw new CudaException("cuDNN has no " + (rt.ctx().deterministic ? "deterministic " : "") + what + " algorithm for " + g
                + " within the " + (rt.ctx().workspaceLimit >> 20) + " MiB workspace (-Dstablekd.cuda.workspaceMiB, -Dstablekd.cuda.deterministic=false)");
    }

    private interface IntFn { int at(int i); }

    private interface LongFn { long at(int i); }

    @Override
    public void forward(ConvGeometry g, Tensor x, Tensor w, Tensor bias, Tensor y) {
        CudaRuntime.f32(x, "conv2d");
        Plan p = plan(g);
        var h = rt.ctx().cudnnHandle;
        rt.ctx().makeCurrent();
        if (p.fwdAlgo < 0) {
            try (cudnnConvolutionFwdAlgoPerf_t perf = new cudnnConvolutionFwdAlgoPerf_t(CUDNN_CONVOLUTION_FWD_ALGO_COUNT)) {
                int[] returned = new int[1];
                Check.cudnn(cudnnFindConvolutionForwardAlgorithmEx(h, p.x, dev(x), p.w, dev(w), p.conv, p.y, dev(y),
                        CUDNN_CONVOLUTION_FWD_ALGO_COUNT, returned, perf, new RawPointer(workspace()), rt.ctx().workspaceLimit),
                        "cudnnFindConvolutionForwardAlgorithmEx for " + g);
                int i = choose(returned[0], j -> perf.position(j).status(), j -> perf.position(j).algo(), j -> perf.position(j).determinism(),
                        j -> perf.position(j).memory(), j -> perf.position(j).mathType(), "forward", g);
                p.fwdAlgo = perf.position(i).algo();
                p.fwdBytes = perf.position(i).memory();
            }
        }
        Check.cudnn(cudnnConvolutionForward(h, one(), p.x, dev(x), p.w, dev(w), p.conv, p.fwdAlgo, new RawPointer(workspace()), p.fwdBytes,
                zero(), p.y, dev(y)), "cudnnConvolutionForward for " + g);
        if (bias != null) {
            Check.cudnn(cudnnAddTensor(h, one(), p.bias, dev(bias), one(), p.y, dev(y)), "cudnnAddTensor (conv bias) for " + g);
        }
    }

    @Override
    public void backwardInput(ConvGeometry g, Tensor dy, Tensor w, Tensor dx) {
        CudaRuntime.f32(dy, "conv2d backward");
        Plan p = plan(g);
        var h = rt.ctx().cudnnHandle;
        rt.ctx().makeCurrent();
        if (p.bwdDataAlgo < 0) {
            try (cudnnConvolutionBwdDataAlgoPerf_t perf = new cudnnConvolutionBwdDataAlgoPerf_t(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT)) {
                int[] returned = new int[1];
                Check.cudnn(cudnnFindConvolutionBackwardDataAlgorithmEx(h, p.w, dev(w), p.y, dev(dy), p.conv, p.x, dev(dx),
                        CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, returned, perf, new RawPointer(workspace()), rt.ctx().workspaceLimit),
                        "cudnnFindConvolutionBackwardDataAlgorithmEx for " + g);
                int i = choose(returned[0], j -> perf.position(j).status(), j -> perf.position(j).algo(), j -> perf.position(j).determinism(),
                        j -> perf.position(j).memory(), j -> perf.position(j).mathType(), "backward-data", g);
                p.bwdDataAlgo = perf.position(i).algo();
                p.bwdDataBytes = perf.position(i).memory();
            }
        }
        Check.cudnn(cudnnConvolutionBackwardData(h, one(), p.w, dev(w), p.y, dev(dy), p.conv, p.bwdDataAlgo, new RawPointer(workspace()),
                p.bwdDataBytes, zero(), p.x, dev(dx)), "cudnnConvolutionBackwardData for " + g);
    }

    @Override
    public void backwardWeight(ConvGeometry g, Tensor x, Tensor dy, Tensor dw, Tensor dbias) {
        CudaRuntime.f32(x, "conv2d backward");
        Plan p = plan(g);
        var h = rt.ctx().cudnnHandle;
        rt.ctx().makeCurrent();
        if (dw != null) {
            if (p.bwdFilterAlgo < 0) {
                try (cudnnConvolutionBwdFilterAlgoPerf_t perf = new cudnnConvolutionBwdFilterAlgoPerf_t(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT)) {
                    int[] returned = new int[1];
                    Check.cudnn(cudnnFindConvolutionBackwardFilterAlgorithmEx(h, p.x, dev(x), p.y, dev(dy), p.conv, p.w, dev(dw),
                            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, returned, perf, new RawPointer(workspace()), rt.ctx().workspaceLimit),
                            "cudnnFindConvolutionBackwardFilterAlgorithmEx for " + g);
                    int i = choose(returned[0], j -> perf.position(j).status(), j -> perf.position(j).algo(), j -> perf.position(j).determinism(),
                            j -> perf.position(j).memory(), j -> perf.position(j).mathType(), "backward-filter", g);
                    p.bwdFilterAlgo = perf.position(i).algo();
                    p.bwdFilterBytes = perf.position(i).memory();
                }
            }
            Check.cudnn(cudnnConvolutionBackwardFilter(h, one(), p.x, dev(x), p.y, dev(dy), p.conv, p.bwdFilterAlgo, new RawPointer(workspace()),
                    p.bwdFilterBytes, zero(), p.w, dev(dw)), "cudnnConvolutionBackwardFilter for " + g);
        }
        if (dbias != null) {
            Check.cudnn(cudnnConvolutionBackwardBias(h, one(), p.y, dev(dy), zero(), p.bias, dev(dbias)), "cudnnConvolutionBackwardBias for " + g);
        }
    }
}

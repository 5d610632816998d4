package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_DIRECT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_FFT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_OP_MATH;

import java.util.List;

/**
 * Which cuDNN convolution algorithm to run, from cuDNN's report (one {@link Candidate} per row of
 * a cudnnConvolution*AlgoPerf_t array). Pure Java, so the rule is tested without a GPU.
 *
 * <p>Deterministic mode (the default) must give the same algorithm in every process, so it never
 * chooses by a measured time: the candidates come from cuDNN's v7 heuristic (no timing) and the
 * first acceptable one in a fixed {@link Direction#preference} order wins. GEMM-based algorithms
 * come first because they accumulate in FP32 like the CPU backend; Winograd and FFT (transform
 * error, larger workspaces) only where no GEMM algorithm applies. Without determinism
 * (-Dstablekd.cuda.deterministic=false) the candidates come from cudnnFind*AlgorithmEx and the
 * fastest acceptable one wins, as cudnn.benchmark does in PyTorch.
 *
 * <p>Math: without TF32 the convolution descriptor is FMA_MATH (no tensor cores), and a result
 * reporting FMA or DEFAULT math is accepted (what cuDNN 9 reports under an FMA descriptor is
 * unverified); with -Dstablekd.cuda.tf32=true DEFAULT, TENSOR_OP and FMA are accepted and the
 * descriptor is set to the chosen result's math type before the call. Never
 * TENSOR_OP_MATH_ALLOW_CONVERSION (FP16 down-conversion is less than the option promises).
 */
final class ConvAlgorithms {
    private ConvAlgorithms() {}

    /** One row of cuDNN's report. */
    record Candidate(int algo, int status, long memory, int determinism, int mathType) {}

    /** cuDNN's algorithm numbers (cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t) in our order of preference. */
    enum Direction {
        FORWARD("forward",
                new int[] {CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                    CUDNN_CONVOLUTION_FWD_ALGO_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,
                    CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING, CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_CONVOLUTION_FWD_ALGO_DIRECT},
                new int[] {}),
        BACKWARD_DATA("backward-data",
                new int[] {CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD,
                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT},
                new int[] {CUDNN_CONVOLUTION_BWD_DATA_ALGO_0}),  // atomics
        BACKWARD_FILTER("backward-filter",
                new int[] {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3,
                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD,
                    CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT},
                new int[] {CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3});  // atomics

        final String label;
        final int[] preference;
        /** Algorithms cuDNN documents as non-deterministic, refused in deterministic mode whatever the report says. */
        final int[] nonDeterministic;

        Direction(String label, int[] preference, int[] nonDeterministic) {
            this.label = label;
            this.preference = preference;
            this.nonDeterministic = nonDeterministic;
        }

        boolean knownNonDeterministic(int algo) {
            for (int a : nonDeterministic) if (a == algo) return true;
            return false;
        }
    }

    /** The math types a result may report under the TF32 option. */
    static boolean mathAllowed(int mathType, boolean tf32) {
        if (mathType == CUDNN_FMA_MATH || mathType == CUDNN_DEFAULT_MATH) return true;
        return tf32 && mathType == CUDNN_TENSOR_OP_MATH;
    }

    /** The descriptor's math type while searching: FMA without TF32 (no tensor cores), else DEFAULT (tensor cores allowed). */
    static int searchMath(boolean tf32) {
        return tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    }

    /** The descriptor's math type for running the chosen result. */
    static int runMath(Candidate chosen, boolean tf32) {
        return tf32 ? chosen.mathType() : CUDNN_FMA_MATH;
    }

    static boolean acceptable(Direction d, Candidate c, boolean deterministic, boolean tf32, long workspaceLimit) {
        if (c.status() != CUDNN_STATUS_SUCCESS || c.memory() > workspaceLimit || !mathAllowed(c.mathType(), tf32)) return false;
        return !deterministic || (c.determinism() == CUDNN_DETERMINISTIC && !d.knownNonDeterministic(c.algo()));
    }

    /**
     * The candidate to run, or null when none is acceptable. Deterministic: the first acceptable in
     * the direction's preference order (for one algorithm, the first acceptable row cuDNN
     * reported). Otherwise: the first acceptable in cuDNN's order (fastest measured first).
     */
    static Candidate choose(Direction d, List<Candidate> reported, boolean deterministic, boolean tf32, long workspaceLimit) {
        if (!deterministic) {
            for (Candidate c : reported) if (acceptable(d, c, false, tf32, workspaceLimit)) return c;
            return null;
        }
        for (int algo : d.preference) {
            for (Candidate c : reported) {
                if (c.algo() == algo && acceptable(d, c, true, tf32, workspaceLimit)) return c;
            }
        }
        return null;
    }
}

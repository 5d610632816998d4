package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_FFT;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_GEMM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM;
import static org.bytedeco.cuda.global.cudnn.CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DEFAULT_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_FMA_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_NON_DETERMINISTIC;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_NOT_SUPPORTED;
import static org.bytedeco.cuda.global.cudnn.CUDNN_STATUS_SUCCESS;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_OP_MATH;
import static org.bytedeco.cuda.global.cudnn.CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.stablekd.backend.cuda.ConvAlgorithms.Candidate;
import org.stablekd.backend.cuda.ConvAlgorithms.Direction;

/** The cuDNN algorithm choice, on made-up reports: what decides it and what never does. */
class ConvAlgorithmsTest {
    private static final long LIMIT = 256L << 20;

    private static Candidate ok(int algo, long memory, int math) {
        return new Candidate(algo, CUDNN_STATUS_SUCCESS, memory, CUDNN_DETERMINISTIC, math);
    }

    @Test
    void deterministicModeIgnoresTheReportedOrder() {
        // the same rows in any order (as two processes' timings might rank them) give the same algorithm
        List<Candidate> rows = new ArrayList<>(List.of(ok(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, 0, CUDNN_FMA_MATH),
                ok(CUDNN_CONVOLUTION_FWD_ALGO_FFT, 1 << 20, CUDNN_FMA_MATH), ok(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, 1 << 10, CUDNN_FMA_MATH),
                ok(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, CUDNN_FMA_MATH)));
        Random r = new Random(1);
        for (int i = 0; i < 20; i++) {
            Collections.shuffle(rows, r);
            assertEquals(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, ConvAlgorithms.choose(Direction.FORWARD, rows, true, false, LIMIT).algo(), rows.toString());
        }
        rows.add(ok(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, 1 << 12, CUDNN_FMA_MATH));
        assertEquals(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, ConvAlgorithms.choose(Direction.FORWARD, rows, true, false, LIMIT).algo());
    }

    @Test
    void withoutDeterminismTheFastestAcceptableWins() {
        List<Candidate> measured = List.of(new Candidate(CUDNN_CONVOLUTION_FWD_ALGO_FFT, CUDNN_STATUS_NOT_SUPPORTED, 0, CUDNN_DETERMINISTIC, CUDNN_FMA_MATH),
                ok(CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD, LIMIT + 1, CUDNN_FMA_MATH), ok(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, 0, CUDNN_FMA_MATH),
                ok(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, CUDNN_FMA_MATH));
        assertEquals(CUDNN_CONVOLUTION_FWD_ALGO_GEMM, ConvAlgorithms.choose(Direction.FORWARD, measured, false, false, LIMIT).algo(),
                "the first row that succeeded and fits the workspace");
    }

    @Test
    void deterministicModeRefusesNonDeterministicAlgorithmsWhateverTheReportSays() {
        List<Candidate> rows = List.of(new Candidate(CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, CUDNN_STATUS_SUCCESS, 0, CUDNN_NON_DETERMINISTIC, CUDNN_FMA_MATH),
                ok(CUDNN_CONVOLUTION_BWD_DATA_ALGO_0, 0, CUDNN_FMA_MATH));
        assertNull(ConvAlgorithms.choose(Direction.BACKWARD_DATA, rows, true, false, LIMIT), "ALGO_0 uses atomics even if reported deterministic");
        assertEquals(CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, ConvAlgorithms.choose(Direction.BACKWARD_DATA, rows, false, false, LIMIT).algo());
        List<Candidate> filter = List.of(ok(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, 0, CUDNN_FMA_MATH), ok(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3, 0, CUDNN_FMA_MATH),
                ok(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, 1 << 20, CUDNN_FMA_MATH));
        assertEquals(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, ConvAlgorithms.choose(Direction.BACKWARD_FILTER, filter, true, false, LIMIT).algo());
    }

    @Test
    void theMathTypeFollowsTheTf32Option() {
        List<Candidate> tensorOpOnly = List.of(ok(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, CUDNN_TENSOR_OP_MATH));
        assertNull(ConvAlgorithms.choose(Direction.FORWARD, tensorOpOnly, true, false, LIMIT), "no tensor cores without TF32");
        Candidate c = ConvAlgorithms.choose(Direction.FORWARD, tensorOpOnly, true, true, LIMIT);
        assertEquals(CUDNN_TENSOR_OP_MATH, c.mathType(), "TF32 accepts what cuDNN reports for tensor cores");
        assertEquals(CUDNN_TENSOR_OP_MATH, ConvAlgorithms.runMath(c, true), "and runs it with that math type");
        List<Candidate> conversion = List.of(ok(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION));
        assertNull(ConvAlgorithms.choose(Direction.FORWARD, conversion, true, true, LIMIT), "never FP16 down-conversion");
        // without TF32 a DEFAULT or FMA report is accepted, and the descriptor stays FMA
        Candidate d = ConvAlgorithms.choose(Direction.FORWARD, List.of(ok(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, 0, CUDNN_DEFAULT_MATH)), true, false, LIMIT);
        assertEquals(CUDNN_FMA_MATH, ConvAlgorithms.runMath(d, false));
        assertEquals(CUDNN_FMA_MATH, ConvAlgorithms.searchMath(false));
        assertEquals(CUDNN_DEFAULT_MATH, ConvAlgorithms.searchMath(true));
    }

    @Test
    void everyPreferenceOrderNamesEachAlgorithmOnce() {
        assertEquals(8, Direction.FORWARD.preference.length);
        assertEquals(6, Direction.BACKWARD_DATA.preference.length);
        assertEquals(7, Direction.BACKWARD_FILTER.preference.length);
        for (Direction d : Direction.values()) {
            int[] sorted = d.preference.clone();
            java.util.Arrays.sort(sorted);
            int[] all = new int[sorted.length];
            for (int i = 0; i < all.length; i++) all[i] = i;
            assertArrayEquals(all, sorted, d + ": a permutation of cuDNN's algorithm numbers");
        }
    }
}

package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.CU_EVENT_DEFAULT;
import static org.bytedeco.cuda.global.cudart.cuEventCreate;
import static org.bytedeco.cuda.global.cudart.cuEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cuEventRecord;
import static org.bytedeco.cuda.global.cudart.cuEventSynchronize;

import java.util.Arrays;
import org.bytedeco.cuda.cudart.CUevent_st;

/** GPU time of queued work, from two CUDA events on the backend's stream (for the benchmarks). */
final class CudaTimer {
    private final CudaContext ctx;
    private final CUevent_st start = new CUevent_st(), stop = new CUevent_st();

    CudaTimer(CudaBackend backend) {
        this.ctx = backend.rt.ctx();
        ctx.makeCurrent();
        Check.cu(cuEventCreate(start, CU_EVENT_DEFAULT), "cuEventCreate");
        Check.cu(cuEventCreate(stop, CU_EVENT_DEFAULT), "cuEventCreate");
    }

    /** Median milliseconds of {@code reps} runs of {@code work} after {@code warmup} unmeasured ones. */
    double medianMs(int warmup, int reps, Runnable work) {
        for (int i = 0; i < warmup; i++) work.run();
        ctx.sync();
        double[] ms = new double[reps];
        float[] out = new float[1];
        for (int i = 0; i < reps; i++) {
            Check.cu(cuEventRecord(start, ctx.stream), "cuEventRecord");
            work.run();
            Check.cu(cuEventRecord(stop, ctx.stream), "cuEventRecord");
            Check.cu(cuEventSynchronize(stop), "cuEventSynchronize");
            Check.cu(cuEventElapsedTime(out, start, stop), "cuEventElapsedTime");
            ms[i] = out[0];
        }
        Arrays.sort(ms);
        return ms[reps / 2];
    }
}

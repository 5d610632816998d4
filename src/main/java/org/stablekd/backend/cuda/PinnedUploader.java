package org.stablekd.backend.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_EVENT_DISABLE_TIMING;
import static org.bytedeco.cuda.global.cudart.CU_MEMHOSTALLOC_PORTABLE;
import static org.bytedeco.cuda.global.cudart.CU_STREAM_NON_BLOCKING;
import static org.bytedeco.cuda.global.cudart.cuEventCreate;
import static org.bytedeco.cuda.global.cudart.cuEventDestroy;
import static org.bytedeco.cuda.global.cudart.cuEventRecord;
import static org.bytedeco.cuda.global.cudart.cuEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cuMemAlloc;
import static org.bytedeco.cuda.global.cudart.cuMemFree;
import static org.bytedeco.cuda.global.cudart.cuMemFreeHost;
import static org.bytedeco.cuda.global.cudart.cuMemHostAlloc;
import static org.bytedeco.cuda.global.cudart.cuMemcpyHtoDAsync;
import static org.bytedeco.cuda.global.cudart.cuStreamCreate;
import static org.bytedeco.cuda.global.cudart.cuStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cuStreamWaitEvent;

import java.lang.foreign.MemorySegment;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.Pointer;
import org.stablekd.tensor.Storage;
import org.stablekd.tensor.Tensor;

/**
 * Batch uploads that overlap the current training step: host tensors are copied into pinned
 * (page-locked) staging memory and from there to the GPU on a second stream, while the compute
 * stream still runs the previous step. The compute stream waits (an event, not the host) for the
 * copy before it uses the batch.
 *
 * <p>Two slots, used in turn: the batch returned by {@link #upload} is valid for all work queued
 * before the second upload after it (the prefetch loop uploads batch i+1, then queues the step
 * on batch i). Before a slot is overwritten the uploader waits for (1) its previous copy to
 * leave the pinned buffer and (2) all compute work queued up to that moment, so a step never sees
 * its batch change under it; the order is {@link UploadSchedule}'s. Slots grow to the largest
 * upload seen; nothing is allocated per batch.
 *
 * <pre>
 *   try (PinnedUploader up = new PinnedUploader()) {
 *       for (Batch b : loader) { Tensor x = up.upload(b.images()); ... step on x ... }
 *   }
 * </pre>
 */
@SuppressWarnings("restricted") // the pinned buffer seen as a MemorySegment (its size is ours)
public final class PinnedUploader implements org.stablekd.backend.BatchUploader {
    private static final int SLOTS = 2;

    private final CudaRuntime rt;
    private final CUstream_st copyStream = new CUstream_st();
    private final Slot[] slots = new Slot[SLOTS];
    private final UploadSchedule schedule = new UploadSchedule(SLOTS);

    private static final class Slot {
        Pointer pinned = new Pointer();
        long device;
        long capacity;
        final CUevent_st copied = new CUevent_st();    // the H2D copy out of the pinned buffer finished
        final CUevent_st released = new CUevent_st();  // compute work that may read this slot's batch finished
        boolean used;
    }

    public PinnedUploader() {
        this.rt = CudaBackend.require().rt;
        rt.ctx().makeCurrent();
        Check.cu(cuStreamCreate(copyStream, CU_STREAM_NON_BLOCKING), "cuStreamCreate (uploads)");
        for (int i = 0; i < SLOTS; i++) {
            Slot s = new Slot();
            Check.cu(cuEventCreate(s.copied, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            Check.cu(cuEventCreate(s.released, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            slots[i] = s;
        }
    }

    /** A GPU copy of the contiguous host tensor {@code host}, usable by ops queued after this call. */
    @Override
    public Tensor upload(Tensor host) {
        if (!host.device().isHost() || !host.isContiguous()) {
            throw new IllegalArgumentException("upload needs a contiguous host tensor, got " + host.shape() + " on " + host.device());
        }
        rt.ctx().makeCurrent();
        long bytes = host.numel() * host.dtype().bytes;
        int slot = schedule.upload(new UploadSchedule.Steps() {
            @Override public void hostWaitsCopied(int i) {
                Check.cu(cuEventSynchronize(slots[i].copied), "cuEventSynchronize (pinned buffer free)");
            }

            @Override public void recordReleased(int i) {
                Check.cu(cuEventRecord(slots[i].released, rt.ctx().stream), "cuEventRecord (slot released)");
            }

            @Override public void copyWaitsReleased(int i) {
                Check.cu(cuStreamWaitEvent(copyStream, slots[i].released, 0), "cuStreamWaitEvent (slot released)");
            }

            @Override public void fillAndCopy(int i) {
                Slot s = slots[i];
                ensureCapacity(s, bytes);
                MemorySegment pinned = MemorySegment.ofAddress(s.pinned.address()).reinterpret(s.capacity);
                MemorySegment.copy(host.segment(), host.offset() * host.dtype().bytes, pinned, 0, bytes);
                if (bytes > 0) Check.cu(cuMemcpyHtoDAsync(s.device, s.pinned, bytes, copyStream), "cuMemcpyHtoDAsync (upload)");
                s.used = true;
            }

            @Override public void recordCopied(int i) {
                Check.cu(cuEventRecord(slots[i].copied, copyStream), "cuEventRecord (batch copied)");
            }

            @Override public void computeWaitsCopied(int i) {
                Check.cu(cuStreamWaitEvent(rt.ctx().stream, slots[i].copied, 0), "cuStreamWaitEvent (batch ready)");
            }
        });
        Storage view = Storage.device(rt.ctx().device, slots[slot].device, Math.max(bytes, 1), () -> {});
        return Tensor.wrap(view, 0, host.dtype(), host.shape());
    }

    private void ensureCapacity(Slot s, long bytes) {
        if (bytes <= s.capacity) return;
        if (s.used) {
            // the old buffers may still be in use by the copy stream or by queued compute work
            Check.cu(cuEventSynchronize(s.copied), "cuEventSynchronize");
            rt.ctx().sync();
        }
        if (s.capacity > 0) {
            Check.cu(cuMemFreeHost(s.pinned), "cuMemFreeHost");
            Check.cu(cuMemFree(s.device), "cuMemFree");
        }
        long cap = Math.max(bytes, 1L << 20);
        Pointer p = new Pointer();
        Check.cu(cuMemHostAlloc(p, cap, CU_MEMHOSTALLOC_PORTABLE), "cuMemHostAlloc(" + cap + " bytes, pinned)");
        long[] d = new long[1];
        Check.cu(cuMemAlloc(d, cap), "cuMemAlloc(" + cap + " bytes, upload slot)");
        s.pinned = p;
        s.device = d[0];
        s.capacity = cap;
    }

    /**
     * Waits for the queued work, then frees the slots. Every release is attempted even after one
     * fails, and the first failure is thrown at the end: a sticky error from an asynchronous copy
     * surfaces here instead of being dropped. Tensors {@link #upload} returned are invalid after.
     */
    @Override
    public void close() {
        CudaException failure = null;
        try {
            rt.ctx().sync();
        } catch (CudaException e) {
            failure = e;
        }
        for (Slot s : slots) {
            failure = firstFailure(failure, cuEventSynchronize(s.copied), "cuEventSynchronize (close)");
            if (s.capacity > 0) {
                failure = firstFailure(failure, cuMemFreeHost(s.pinned), "cuMemFreeHost (close)");
                failure = firstFailure(failure, cuMemFree(s.device), "cuMemFree (close)");
            }
            failure = firstFailure(failure, cuEventDestroy(s.copied), "cuEventDestroy (close)");
            failure = firstFailure(failure, cuEventDestroy(s.released), "cuEventDestroy (close)");
        }
        failure = firstFailure(failure, cuStreamDestroy(copyStream), "cuStreamDestroy (close)");
        if (failure != null) throw failure;
    }

    private static CudaException firstFailure(CudaException first, int status, String call) {
        if (first != null || status == CUDA_SUCCESS) return first;
        return new CudaException(call + " failed: " + Check.driverError(status));
    }
}

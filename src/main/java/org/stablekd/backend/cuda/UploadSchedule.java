package org.stablekd.backend.cuda;

/**
 * The order of {@link PinnedUploader}'s stream and event operations for one upload, apart from
 * the driver calls, so a CPU test can run it against a model of the two streams.
 *
 * <p>A slot is reused every {@code slots}-th upload. Before its pinned buffer is refilled the
 * host waits for the slot's previous copy to have left it; before its device buffer is
 * overwritten the copy stream waits for an event recorded on the compute stream <em>at this
 * moment</em>, i.e. after all compute work queued so far, which includes every step that read
 * the slot's previous batch. (Recording that event earlier, at the upload that followed the
 * slot's fill, missed the step queued in between: in the prefetch loop {@code x1 = upload(b1);
 * step(x0); x2 = upload(b2)} the copy of b2 overwrote x0 while step(x0) ran.)
 */
final class UploadSchedule {
    /** What one upload does, in the order {@link #upload} calls it. */
    interface Steps {
        /** Host waits until the slot's previous host-to-device copy has finished (its pinned buffer is free). */
        void hostWaitsCopied(int slot);

        /** Records the slot's release event on the compute stream (after everything queued so far). */
        void recordReleased(int slot);

        /** The copy stream waits for the slot's release event. */
        void copyWaitsReleased(int slot);

        /** Fills the slot's pinned buffer from the host tensor and queues the copy to its device buffer on the copy stream. */
        void fillAndCopy(int slot);

        /** Records the slot's copied event on the copy stream. */
        void recordCopied(int slot);

        /** The compute stream waits for the copy before any later work reads the batch. */
        void computeWaitsCopied(int slot);
    }

    private final boolean[] used;
    private int next;

    UploadSchedule(int slots) {
        this.used = new boolean[slots];
    }

    /** Runs one upload's steps and returns the slot that holds the batch. */
    int upload(Steps s) {
        int slot = next;
        if (used[slot]) {
            s.hostWaitsCopied(slot);
            s.recordReleased(slot);
            s.copyWaitsReleased(slot);
        }
        s.fillAndCopy(slot);
        s.recordCopied(slot);
        s.computeWaitsCopied(slot);
        used[slot] = true;
        next = (next + 1) % used.length;
        return slot;
    }
}

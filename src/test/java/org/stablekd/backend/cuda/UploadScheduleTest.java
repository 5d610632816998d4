package org.stablekd.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link UploadSchedule} against a model of the two streams: no slot's device buffer is
 * overwritten before every compute step queued on its previous batch has run, no pinned buffer is
 * refilled while its previous copy may still read it, and no step reads a batch before its copy.
 */
class UploadScheduleTest {

    /** The compute stream as a list of reads (slot, batch number), the copy stream as what it has waited for. */
    private static final class Streams implements UploadSchedule.Steps {
        final int[] batchIn;              // batch number currently in each slot (-1: none)
        final int[] readyBatch;           // batch the compute stream has waited for, per slot
        final int[] releasedAt;           // compute ops queued when the slot's release event was last recorded
        final boolean[] pinnedFree;       // host has seen the slot's last copy finish
        final List<int[]> computeReads = new ArrayList<>();  // {slot, batch}
        int copyWaitedFor;                // the copy stream runs after compute ops [0, copyWaitedFor)
        int batches;

        Streams(int slots) {
            batchIn = new int[slots];
            readyBatch = new int[slots];
            releasedAt = new int[slots];
            pinnedFree = new boolean[slots];
            java.util.Arrays.fill(batchIn, -1);
            java.util.Arrays.fill(readyBatch, -1);
            java.util.Arrays.fill(pinnedFree, true);
        }

        @Override public void hostWaitsCopied(int slot) {
            pinnedFree[slot] = true;
        }

        @Override public void recordReleased(int slot) {
            releasedAt[slot] = computeReads.size();
        }

        @Override public void copyWaitsReleased(int slot) {
            copyWaitedFor = Math.max(copyWaitedFor, releasedAt[slot]);
        }

        @Override public void fillAndCopy(int slot) {
            assertTrue(pinnedFree[slot], "slot " + slot + ": pinned buffer refilled while its previous copy may still read it");
            for (int op = 0; op < computeReads.size(); op++) {
                int[] r = computeReads.get(op);
                if (r[0] == slot && r[1] == batchIn[slot]) {
                    assertTrue(op < copyWaitedFor, "slot " + slot + ": batch " + batches + " overwrites batch " + r[1]
                            + " while compute op " + op + " (a step on it) may still run");
                }
            }
            pinnedFree[slot] = false;
            batchIn[slot] = batches++;
        }

        @Override public void recordCopied(int slot) {}

        @Override public void computeWaitsCopied(int slot) {
            readyBatch[slot] = batchIn[slot];
        }

        /** Queues a step that reads the batch of the given number from its slot. */
        void step(int slot, int batch) {
            assertEquals(batch, batchIn[slot], "slot " + slot + " no longer holds batch " + batch);
            assertEquals(batch, readyBatch[slot], "a step on batch " + batch + " queued before the compute stream waited for its copy");
            computeReads.add(new int[] {slot, batch});
        }
    }

    @Test
    void thePrefetchLoopNeverOverwritesTheBatchItsStepReads() {
        // x(i+1) = upload(b(i+1)); step(x(i)) — the loop PinnedUploader exists for
        UploadSchedule schedule = new UploadSchedule(2);
        Streams s = new Streams(2);
        int slot = schedule.upload(s), batch = 0;
        for (int i = 1; i < 8; i++) {
            int nextSlot = schedule.upload(s);
            s.step(slot, batch);  // forward
            s.step(slot, batch);  // and backward read the same batch
            slot = nextSlot;
            batch = i;
        }
        s.step(slot, batch);
        assertEquals(8, s.batches);
    }

    @Test
    void uploadThenStepAndThreeSlots() {
        for (int slots = 1; slots <= 3; slots++) {
            UploadSchedule schedule = new UploadSchedule(slots);
            Streams s = new Streams(slots);
            for (int i = 0; i < 7; i++) s.step(schedule.upload(s), i);
        }
    }
}

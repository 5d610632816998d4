package org.stablekd.data;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * Batches a {@link Dataset} through a {@link Transform} on background threads into a small ring of
 * reused off-heap batches.
 *
 * <pre>{@code
 * try (Loader loader = new Loader(train, Transforms.cifarTrain(Normalize.CIFAR100),
 *         LoaderOptions.batchSize(64).shuffle(true).seed(seed))) {
 *     for (int epoch = 0; epoch < epochs; epoch++) {
 *         for (Batch b : loader.startEpoch(epoch)) {
 *             try (b) { step(b.images(), b.labels()); }     // release() at the end of the step
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p><b>Ring.</b> {@code ringSize} batches of (batchSize, C, H, W) F32 + (batchSize) I32 are
 * allocated once, outside any {@link Scope}. A batch slot cycles free → filled by a worker → ready
 * → held by the consumer → free again on {@link Batch#release()}. Workers fill whole batches, so
 * with W workers up to W batches are prepared at once while the consumer trains on another.
 *
 * <p><b>Determinism.</b> The epoch's order is a seeded shuffle of epoch e alone, and each sample's
 * augmentation uses its own Rng from (seed, epoch, dataset index) (see {@link Seeds}); batches
 * are handed out strictly in order. So the batches are the same for any number of workers, any
 * timing, and when an epoch is resumed from a batch index ({@link #startEpoch(int, int)}) after a
 * checkpoint — no loader state needs saving beyond (epoch, next batch index).
 *
 * <p><b>Errors</b> on a worker (a damaged image, a failing transform) are rethrown in the consumer
 * as a {@link DataLoaderException} with the original message when it reaches the batch that failed.
 * Holding every batch of the ring and asking for another is an {@link IllegalStateException}
 * instead of a deadlock.
 *
 * <p><b>Lifetime.</b> Close the loader (try-with-resources): its threads (daemons) hold it, so an
 * unclosed loader keeps its threads and ring until the JVM exits. One consumer thread at a time.
 */
public final class Loader implements AutoCloseable {
    /** One preallocated batch buffer. */
    static final class Slot {
        final Tensor images;  // (batchSize, C, H, W) F32
        final Tensor labels;  // (batchSize) I32

        Slot(Tensor images, Tensor labels) {
            this.images = images;
            this.labels = labels;
        }
    }

    /** The work of one startEpoch call; replaced by the next. Guarded by {@code lock}. */
    private static final class Job {
        final int epoch;
        final int[] order;
        final int end;           // batches in the epoch
        int nextClaim;           // next batch index a worker will take
        int nextConsume;         // next batch index the consumer will get
        int failedAt = Integer.MAX_VALUE;
        Throwable failure;
        final Map<Integer, Slot> ready = new HashMap<>();

        Job(int epoch, int[] order, int first, int end) {
            this.epoch = epoch;
            this.order = order;
            this.nextClaim = first;
            this.nextConsume = first;
            this.end = end;
        }
    }

    private final Dataset dataset;
    private final Transform transform;
    private final LoaderOptions options;
    private final ImageShape outShape;
    private final Slot[] slots;
    private final Thread[] workers;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Slot> free = new ArrayDeque<>();
    private Job job;
    private int held;
    private boolean closed;

    public Loader(Dataset dataset, Transform transform, LoaderOptions options) {
        this.dataset = dataset;
        this.transform = transform;
        this.options = options;
        this.outShape = transform.outputShape(dataset.shape());
        int b = options.localBatchSize();
        slots = new Slot[options.ringSize()];
        try (Restore r = Scope.suspend()) { // the ring outlives any step scope of the caller
            for (int i = 0; i < slots.length; i++) {
                slots[i] = new Slot(Tensor.empty(DType.F32, b, outShape.channels(), outShape.height(), outShape.width()), Tensor.empty(DType.I32, b));
                free.add(slots[i]);
            }
        }
        workers = new Thread[options.workers()];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Thread(this::work, "stablekd-loader-" + i);
            workers[i].setDaemon(true);
            workers[i].start();
        }
    }

    public Dataset dataset() { return dataset; }
    public LoaderOptions options() { return options; }
    /** (C, H, W) of one sample after the transform. */
    public ImageShape sampleShape() { return outShape; }

    public int batchesPerEpoch() {
        int n = dataset.size(), b = options.batchSize();
        if (options.dropLast()) return n / b;
        // shared by several ranks, a last batch with fewer samples than ranks would leave a rank empty-handed: it is dropped
        return n % b != 0 && n % b < options.ranks() ? n / b : (n + b - 1) / b;
    }

    /** Samples of batch {@code k} in the whole group (the global batch), before it is cut into ranks' parts. */
    public int globalBatchSize(int k) {
        return Math.min(options.batchSize(), dataset.size() - k * options.batchSize());
    }

    /** {from, to}: positions in the epoch's order of this rank's part of batch {@code k}. */
    private int[] part(int k) {
        int from = k * options.batchSize(), g = globalBatchSize(k), r = options.rank(), n = options.ranks();
        return new int[] {from + (int) ((long) g * r / n), from + (int) ((long) g * (r + 1) / n)};
    }

    /** Batches per epoch, like {@code len(DataLoader)}. */
    public int size() {
        return batchesPerEpoch();
    }

    /** Samples this loader yields per epoch (its rank's parts only). */
    public int samplesPerEpoch() {
        if (options.ranks() == 1) return options.dropLast() ? batchesPerEpoch() * options.batchSize() : dataset.size();
        int n = 0;
        for (int k = 0; k < batchesPerEpoch(); k++) {
            int[] p = part(k);
            n += p[1] - p[0];
        }
        return n;
    }

    /** The dataset indices in the order epoch {@code epoch} visits them. */
    public int[] order(int epoch) {
        int[] order = new int[dataset.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        if (options.shuffle()) {
            Rng rng = Seeds.shuffleRng(options.seed(), epoch);
            for (int i = order.length - 1; i > 0; i--) { // Fisher-Yates
                int j = rng.nextInt(i + 1);
                int t = order[i]; order[i] = order[j]; order[j] = t;
            }
        }
        return order;
    }

    public Epoch startEpoch(int epoch) {
        return startEpoch(epoch, 0);
    }

    /**
     * Starts (or restarts) epoch {@code epoch} at batch {@code firstBatch}: the batches are those an
     * uninterrupted epoch yields from that index on. Any earlier epoch stops: its unconsumed
     * batches are dropped (batches the consumer still holds stay valid until released).
     */
    public Epoch startEpoch(int epoch, int firstBatch) {
        if (epoch < 0) throw new IllegalArgumentException("epoch must be >= 0, got " + epoch);
        if (firstBatch < 0 || firstBatch > batchesPerEpoch()) {
            throw new IllegalArgumentException("first batch " + firstBatch + " is outside 0.." + batchesPerEpoch() + " (batches per epoch)");
        }
        Job j = new Job(epoch, order(epoch), firstBatch, batchesPerEpoch());
        lock.lock();
        try {
            checkOpen();
            if (job != null) {
                free.addAll(job.ready.values());
                job.ready.clear();
            }
            job = j;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return new Epoch(j);
    }

    /** The batches of one epoch, in order; also usable once in a for-each loop. */
    public final class Epoch implements Iterator<Batch>, Iterable<Batch> {
        private final Job j;
        private boolean iterated;

        private Epoch(Job j) {
            this.j = j;
        }

        public int epoch() {
            return j.epoch;
        }

        /** Index of the batch the next {@link #next()} returns. */
        public int nextIndex() {
            lock.lock();
            try {
                return j.nextConsume;
            } finally {
                lock.unlock();
            }
        }

        @Override
        public boolean hasNext() {
            return nextIndex() < j.end;
        }

        /** The next batch, waiting for it if it is not ready; rethrows a worker's failure for it. */
        @Override
        public Batch next() {
            lock.lock();
            try {
                while (true) {
                    checkOpen();
                    if (job != j) throw new IllegalStateException("epoch " + j.epoch + " was superseded by a later startEpoch()");
                    int k = j.nextConsume;
                    if (k >= j.end) throw new NoSuchElementException("epoch " + j.epoch + " has no batch " + k + " (it has " + j.end + ")");
                    Slot s = j.ready.remove(k);
                    if (s != null) {
                        j.nextConsume++;
                        held++;
                        int[] p = part(k);
                        return new Batch(Loader.this, s, j.epoch, k, Arrays.copyOfRange(j.order, p[0], p[1]), globalBatchSize(k));
                    }
                    if (j.failedAt == k) throw new DataLoaderException(j.failure, j.epoch, k);
                    if (held == slots.length) {
                        throw new IllegalStateException("all " + slots.length + " batches of the loader's ring are held; release() each batch when "
                                + "the step is done with it (or raise LoaderOptions.ringSize)");
                    }
                    changed.awaitUninterruptibly();
                }
            } finally {
                lock.unlock();
            }
        }

        @Override
        public Iterator<Batch> iterator() {
            if (iterated) throw new IllegalStateException("an Epoch can be iterated once; call startEpoch again");
            iterated = true;
            return this;
        }
    }

    /** Called by {@link Batch#release()}. */
    void giveBack(Slot slot) {
        lock.lock();
        try {
            held--;
            if (!closed) {
                free.add(slot);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the loader is closed");
    }

    // ---------------------------------------------------------------- workers

    private void work() {
        byte[] pixels = new byte[dataset.shape().numel()];
        ImageBuffer image = new ImageBuffer();
        while (true) {
            Slot slot;
            Job j;
            int k;
            lock.lock();
            try {
                while (!closed && (job == null || free.isEmpty() || job.nextClaim >= Math.min(job.end, job.failedAt))) {
                    changed.awaitUninterruptibly();
                }
                if (closed) return;
                slot = free.poll();
                j = job;
                k = j.nextClaim++;
            } finally {
                lock.unlock();
            }
            Throwable error = null;
            try {
                fill(slot, j, k, pixels, image);
            } catch (Throwable t) {
                error = t;
            }
            lock.lock();
            try {
                if (closed || job != j) {
                    free.add(slot); // a superseded epoch: nobody wants this batch
                } else if (error != null) {
                    free.add(slot);
                    if (k < j.failedAt) {
                        j.failedAt = k;
                        j.failure = error;
                    }
                } else {
                    j.ready.put(k, slot);
                }
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Decodes, transforms and packs the samples of batch {@code k} of {@code j} into {@code slot}. */
    private void fill(Slot slot, Job j, int k, byte[] pixels, ImageBuffer image) throws Exception {
        int[] p = part(k);
        int from = p[0], count = p[1] - p[0];
        int numel = outShape.numel();
        MemorySegment images = slot.images.segment();
        MemorySegment labels = slot.labels.segment();
        for (int s = 0; s < count; s++) {
            int index = j.order[from + s];
            dataset.readImage(index, pixels, 0);
            image.loadUint8(pixels, 0, dataset.shape());
            transform.apply(image, Seeds.sampleRng(options.seed(), j.epoch, index));
            if (image.channels() != outShape.channels() || image.height() != outShape.height() || image.width() != outShape.width()) {
                throw new IllegalStateException(transform + " produced " + image.shape() + " but its outputShape said " + outShape);
            }
            // layout: images (B, C, H, W) F32 contiguous from element 0; labels (B) I32
            MemorySegment.copy(image.data(), 0, images, ValueLayout.JAVA_FLOAT, (long) s * numel * Float.BYTES, numel);
            labels.setAtIndex(ValueLayout.JAVA_INT, s, dataset.label(index));
        }
    }

    // ---------------------------------------------------------------- shutdown

    /** True while any worker thread runs (tests). */
    boolean workersAlive() {
        for (Thread t : workers) if (t.isAlive()) return true;
        return false;
    }

    /**
     * Stops the workers (a batch being filled is finished first) and frees the ring. Batches still
     * held become unusable. Idempotent.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        boolean stopped = true;
        for (Thread t : workers) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stopped &= !t.isAlive();
        }
        // A worker still decoding after the wait keeps writing into its slot: leave the ring to the
        // garbage collector rather than hand memory that is still written to back to the allocator.
        if (stopped) {
            for (Slot s : slots) {
                s.images.storage().release();
                s.labels.storage().release();
            }
        }
    }
}

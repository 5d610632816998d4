package org.stablekd.data;

/**
 * How a {@link Loader} batches a dataset. Build from {@link #batchSize(int)} and the {@code with}
 * methods: {@code LoaderOptions.batchSize(64).shuffle(true).seed(7)}.
 *
 * @param batchSize samples per batch
 * @param shuffle   a new seeded order every epoch (else file order)
 * @param dropLast  skip the last, smaller batch
 * @param seed      the run seed: shuffles and augmentations derive from it (see {@link Seeds})
 * @param workers   background threads preparing batches (not the compute pool)
 * @param ringSize  preallocated batches in flight: being filled, ready, or held by the consumer
 * @param rank      this process's rank when data-parallel (0 alone)
 * @param ranks     processes sharing each batch: batch k of the epoch's one global order is cut into
 *                  {@code ranks} nearly equal parts and this loader yields part {@code rank}
 */
public record LoaderOptions(int batchSize, boolean shuffle, boolean dropLast, long seed, int workers, int ringSize, int rank, int ranks) {
    public static final int DEFAULT_WORKERS = 2;
    public static final int DEFAULT_RING = 3;

    public LoaderOptions {
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        if (workers < 1) throw new IllegalArgumentException("loader workers must be at least 1, got " + workers);
        if (ringSize < 2) throw new IllegalArgumentException("the batch ring needs at least 2 batches (one held, one being filled), got " + ringSize);
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks + " is not a rank of the group");
        if (ranks > batchSize) {
            throw new IllegalArgumentException("a batch of " + batchSize + " cannot be shared by " + ranks + " ranks; raise the batch size to at least the number of ranks");
        }
    }

    public LoaderOptions(int batchSize, boolean shuffle, boolean dropLast, long seed, int workers, int ringSize) {
        this(batchSize, shuffle, dropLast, seed, workers, ringSize, 0, 1);
    }

    /** Defaults: no shuffle, keep the last batch, seed 0, 2 workers, a ring of 3. */
    public static LoaderOptions batchSize(int batchSize) {
        return new LoaderOptions(batchSize, false, false, 0, DEFAULT_WORKERS, DEFAULT_RING);
    }

    public LoaderOptions shuffle(boolean on) { return new LoaderOptions(batchSize, on, dropLast, seed, workers, ringSize, rank, ranks); }
    public LoaderOptions dropLast(boolean on) { return new LoaderOptions(batchSize, shuffle, on, seed, workers, ringSize, rank, ranks); }
    public LoaderOptions seed(long s) { return new LoaderOptions(batchSize, shuffle, dropLast, s, workers, ringSize, rank, ranks); }
    /** Also grows the ring to workers + 1 so every worker can have a batch in hand while one is held. */
    public LoaderOptions workers(int n) { return new LoaderOptions(batchSize, shuffle, dropLast, seed, n, Math.max(ringSize, n + 1), rank, ranks); }
    public LoaderOptions ringSize(int n) { return new LoaderOptions(batchSize, shuffle, dropLast, seed, workers, n, rank, ranks); }

    /** This loader yields part {@code rank} of every batch, cut into {@code ranks} parts (data parallelism). */
    public LoaderOptions shard(int rank, int ranks) { return new LoaderOptions(batchSize, shuffle, dropLast, seed, workers, ringSize, rank, ranks); }

    /** The largest part a rank gets of a batch. */
    public int localBatchSize() { return (batchSize + ranks - 1) / ranks; }
}

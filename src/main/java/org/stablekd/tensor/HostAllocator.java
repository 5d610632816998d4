package org.stablekd.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Caching allocator for host tensors: 64-byte aligned off-heap blocks, reused by size class.
 * A training step asks for the same sizes every step, so after the first step every request is
 * served from the cache and nothing new is allocated (see NOTES.md, Note [Memory scopes]).
 *
 * <p>Size classes: 64-byte granules up to 4 KiB, then 8 classes per power of two (at most 12.5 %
 * slack). Each block has its own shared arena so {@link #emptyCache()} can unmap it.
 */
public final class HostAllocator {
    public static final int ALIGNMENT = 64;
    /**
     * {@code -Dstablekd.poison=true}: every block handed out is filled with 0xFF bytes (NaN as
     * floats), so a kernel that reads memory it has not written shows up as NaN. The tests run
     * with it on.
     */
    private static final boolean POISON = Boolean.getBoolean("stablekd.poison");
    private static final HostAllocator INSTANCE = new HostAllocator();
    private static final Cleaner CLEANER = Cleaner.create();

    private record Block(Arena arena, MemorySegment segment) {}

    /** Cached blocks by {@link #key} of their size class. */
    private final Map<Long, ArrayDeque<Block>> free = new HashMap<>();
    private long reservedBytes;     // all blocks, in use or cached
    private long inUseBytes;
    private long freshBlocks;       // how many blocks were ever mapped
    private long requests;

    private HostAllocator() {}

    public static HostAllocator get() {
        return INSTANCE;
    }

    /**
     * The map key of a size class: the class times an odd constant (one to one). The classes are
     * multiples of 64, so as keys they all fell into a few of HashMap's buckets, which turned into
     * trees; a batch-1 mobile_half call spent 3.6 % of its time searching them (JFR, 2026-12-06).
     */
    private static Long key(long cls) {
        return cls * 0x9E3779B97F4A7C15L;
    }

    static long sizeClass(long bytes) {
        if (bytes <= 4096) return Math.max(ALIGNMENT, (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
        long step = Long.highestOneBit(bytes) >> 3;
        return (bytes + step - 1) / step * step;
    }

    /**
     * A storage of at least {@code bytes}; its segment is exactly {@code bytes} long. Content is
     * undefined (whatever the block held last). Tracked by the current {@link Scope} if there is one.
     */
    public Storage allocate(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("cannot allocate " + bytes + " bytes");
        long cls = sizeClass(bytes);
        Block block;
        synchronized (this) {
            requests++;
            ArrayDeque<Block> q = free.get(key(cls));
            block = q == null ? null : q.pollFirst();
            if (block == null) {
                Arena arena = Arena.ofShared();
                try {
                    block = new Block(arena, arena.allocate(cls, ALIGNMENT));
                } catch (OutOfMemoryError e) {
                    arena.close();
                    throw new OutOfMemoryError("host allocation of " + cls + " bytes failed (reserved " + reservedBytes
                            + " bytes); reduce the batch size or free tensors with a Scope");
                }
                reservedBytes += cls;
                freshBlocks++;
            }
            inUseBytes += cls;
        }
        MemorySegment view = block.segment().asSlice(0, bytes);
        if (POISON) view.fill((byte) 0xFF);
        ReturnToCache back = new ReturnToCache(this, block, cls);
        Storage s = new Storage(Device.CPU, view, 0, bytes, back);
        // Unreachable storage made outside a scope goes back to the cache too.
        back.cleanable = CLEANER.register(s, back);
        Scope scope = Scope.current();
        if (scope != null) scope.adopt(s);
        return s;
    }

    /** Releases the cached blocks (not the ones in use) back to the operating system. */
    public synchronized void emptyCache() {
        for (ArrayDeque<Block> q : free.values()) {
            for (Block b : q) {
                reservedBytes -= b.segment().byteSize();
                b.arena().close();
            }
        }
        free.clear();
    }

    public synchronized Stats stats() {
        return new Stats(reservedBytes, inUseBytes, freshBlocks, requests);
    }

    /** reserved: all mapped bytes; inUse: bytes held by live storage; freshBlocks: blocks ever mapped. */
    public record Stats(long reservedBytes, long inUseBytes, long freshBlocks, long requests) {}

    private synchronized void giveBack(Block block, long cls) {
        inUseBytes -= cls;
        free.computeIfAbsent(key(cls), k -> new ArrayDeque<>()).addFirst(block);
    }

    /** Both the explicit release and the cleaner end here; Cleanable.clean() runs it at most once. */
    private static final class ReturnToCache implements Runnable, Storage.Releaser {
        private final HostAllocator allocator;
        private final Block block;
        private final long cls;
        Cleaner.Cleanable cleanable;

        ReturnToCache(HostAllocator allocator, Block block, long cls) {
            this.allocator = allocator;
            this.block = block;
            this.cls = cls;
        }

        @Override
        public void run() {
            allocator.giveBack(block, cls);
        }

        @Override
        public void release() {
            cleanable.clean();
        }
    }
}

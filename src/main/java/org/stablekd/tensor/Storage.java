package org.stablekd.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A block of memory that tensors view. Host storage is a 64-byte aligned off-heap segment from
 * {@link HostAllocator}; it goes back to the allocator's cache when its {@link Scope} closes, or
 * when it becomes unreachable if it was made outside any scope. Device storage (CUDA) carries a
 * device pointer instead of a segment.
 *
 * <p>Using storage after it was released is an error with a clear message, never a crash: the
 * memory itself stays mapped in the allocator's cache (see NOTES.md, Note [Memory scopes]).
 */
public final class Storage {
    private final Device device;
    private final MemorySegment segment;   // host memory; MemorySegment.NULL for device storage
    private final long devicePointer;      // 0 for host storage
    private final long bytes;
    private final Releaser releaser;
    private volatile boolean released;

    /** Gives the memory back; called exactly once. */
    public interface Releaser {
        void release();
    }

    Storage(Device device, MemorySegment segment, long devicePointer, long bytes, Releaser releaser) {
        this.device = device;
        this.segment = segment;
        this.devicePointer = devicePointer;
        this.bytes = bytes;
        this.releaser = releaser;
    }

    /**
     * Storage for a device backend (e.g. CUDA); {@code releaser} gives the pointer back. Like host
     * storage it belongs to the current {@link Scope}, if any, and is released when that closes.
     */
    public static Storage device(Device device, long pointer, long bytes, Releaser releaser) {
        Storage s = new Storage(device, MemorySegment.NULL, pointer, bytes, releaser);
        Scope scope = Scope.current();
        if (scope != null) scope.adopt(s);
        return s;
    }

    public Device device() {
        return device;
    }

    public long bytes() {
        return bytes;
    }

    public long devicePointer() {
        checkAlive();
        return devicePointer;
    }

    /**
     * Storage of a host-memory device ({@link Device#SIM}) over {@code host}, which it owns: its
     * segment is readable only by kernels ({@link KernelAccess}), so host code that reads it
     * without a transfer fails as it would on a GPU. Belongs to the current {@link Scope}, if any.
     */
    public static Storage hostBacked(Device device, Storage host) {
        if (device.isHost() || !host.device.isHost()) throw new IllegalArgumentException("hostBacked: " + device + " over storage on " + host.device);
        Storage s = new Storage(device, host.segment, 0, host.bytes, host::release);
        Scope scope = Scope.current();
        if (scope != null) scope.adopt(s);
        return s;
    }

    /** The host segment (exactly {@link #bytes()} long, so any access beyond it is a Java exception). */
    public MemorySegment segment() {
        checkAlive();
        // device storage has no host segment (NULL): say so, instead of an index error from a zero-length segment;
        // a host-backed device's segment is for its kernels only
        if (!device.isHost() && !(segment != MemorySegment.NULL && KernelAccess.open())) {
            throw new IllegalStateException("a tensor on " + device + " has no host memory to read or write here; copy it to the host first "
                    + "(org.stablekd.backend.Transfers.toHost)");
        }
        return segment;
    }

    public boolean isReleased() {
        return released;
    }

    public void checkAlive() {
        if (released) {
            throw new IllegalStateException("tensor storage (" + bytes + " bytes on " + device
                    + ") was used after its Scope closed; keep it with scope.keep(tensor) or create it outside the scope");
        }
    }

    /** Returns the memory to its allocator now. Idempotent. */
    public void release() {
        if (released) return;
        released = true;
        releaser.release();
    }
}

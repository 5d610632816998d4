package org.stablekd.tensor;

import java.util.ArrayList;

/**
 * A region whose tensors are freed together when it closes: wrap a training step in
 * {@code try (Scope s = Scope.open()) { ... }} and every activation, gradient temporary and
 * saved tensor made inside goes back to the allocator cache at the end, so the next step reuses
 * the same blocks. Persistent state (parameters, gradient and optimizer slabs) is made outside
 * any scope, or inside {@link #suspend()}. Scopes nest per thread and close in reverse order.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();
    /** Marks "no scope" while a suspension is active. */
    private static final Scope NONE = new Scope(null, null);

    private final Scope parent;
    private final Thread owner;
    private final ArrayList<Storage> owned = new ArrayList<>();
    private boolean closed;

    private Scope(Scope parent, Thread owner) {
        this.parent = parent;
        this.owner = owner;
    }

    public static Scope open() {
        Scope s = new Scope(CURRENT.get(), Thread.currentThread());
        CURRENT.set(s);
        return s;
    }

    /** The innermost open scope of this thread, or null. */
    public static Scope current() {
        Scope s = CURRENT.get();
        return s == NONE ? null : s;
    }

    /** Until the returned handle closes, new tensors belong to no scope (they live until unreachable). */
    public static Restore suspend() {
        Scope previous = CURRENT.get();
        CURRENT.set(NONE);
        return () -> CURRENT.set(previous);
    }

    void adopt(Storage s) {
        owned.add(s);
    }

    /**
     * Moves {@code t}'s storage out of this scope to the enclosing one (or to no scope), so it
     * survives {@link #close()}. Returns {@code t}.
     */
    public Tensor keep(Tensor t) {
        Storage s = t.storage();
        for (int i = owned.size() - 1; i >= 0; i--) {
            if (owned.get(i) == s) {
                owned.remove(i);
                Scope p = parent == NONE ? null : parent;
                if (p != null) p.adopt(s);
                return t;
            }
        }
        return t; // not ours: already outside this scope
    }

    public int size() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) return;
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("a Scope must be closed by the thread that opened it (" + owner.getName() + ")");
        }
        if (CURRENT.get() != this) {
            throw new IllegalStateException("Scopes must close innermost first; an inner scope is still open");
        }
        closed = true;
        for (Storage s : owned) s.release();
        owned.clear();
        CURRENT.set(parent);
    }
}

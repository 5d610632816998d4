package org.stablekd.tensor;

/**
 * Where a tensor's storage lives. Host memory is shared by the {@code ref} and {@code cpu} backends.
 * {@code SIM} is a simulated accelerator for tests: host memory behind a device boundary (its own
 * storage, host code cannot read it, every transfer counted), run by the CPU kernels, so placement
 * is tested without a GPU (org.stablekd.backend.sim.SimBackend).
 */
public record Device(Kind kind, int index) {
    public enum Kind { CPU, CUDA, SIM }

    public static final Device CPU = new Device(Kind.CPU, 0);

    public static Device cuda(int index) {
        return new Device(Kind.CUDA, index);
    }

    /** The simulated accelerator (tests only). */
    public static final Device SIM = new Device(Kind.SIM, 0);

    public boolean isHost() {
        return kind == Kind.CPU;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + index;
    }
}

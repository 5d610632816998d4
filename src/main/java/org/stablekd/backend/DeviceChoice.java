package org.stablekd.backend;

import java.util.function.Supplier;
import org.stablekd.tensor.Device;

/**
 * The device a command runs on, from its {@code --device} value: {@code cpu}; {@code cuda} (or
 * {@code cuda:0}), which fails with the backend's one-line reason where it cannot load; none (or
 * {@code auto}): CUDA when its backend loads, else the CPU with a note saying why; {@code sim}:
 * the simulated device of the tests (no GPU, transfers counted).
 */
public final class DeviceChoice {
    private DeviceChoice() {}

    /** The device, and the one line to show when the default fell back to the CPU (null otherwise). */
    public record Choice(Device device, String note) {}

    public static Choice resolve(String spec) {
        return resolve(spec, Backends::cuda);
    }

    /** As {@link #resolve(String)} with the CUDA backend's availability given (tests). */
    static Choice resolve(String spec, Supplier<Backends.Availability> cuda) {
        String s = spec == null ? "auto" : spec.strip().toLowerCase(java.util.Locale.ROOT);
        return switch (s) {
            case "cpu" -> new Choice(Device.CPU, null);
            case "sim", "sim:0" -> new Choice(Device.SIM, null);
            case "cuda", "cuda:0" -> {
                Backends.Availability a = cuda.get();
                if (!a.available()) throw new IllegalArgumentException("--device cuda: CUDA is unavailable here (" + a.reason() + "); use --device cpu");
                yield new Choice(a.backend().device(), null);
            }
            case "auto" -> {
                Backends.Availability a = cuda.get();
                yield a.available() ? new Choice(a.backend().device(), null)
                        : new Choice(Device.CPU, "running on the CPU: CUDA unavailable (" + a.reason() + ")");
            }
            default -> throw new IllegalArgumentException("--device must be cpu or cuda, not '" + spec + "'");
        };
    }
}

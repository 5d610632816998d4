package org.stablekd.tensor;

import java.util.EnumMap;
import java.util.Map;

/** Allocates storage on a non-host device; a device backend registers one at startup. */
public interface DeviceAllocator {
    Storage allocate(Device device, long bytes);

    /** Registered allocators by device kind (the host uses {@link HostAllocator}). */
    final class Registry {
        private static final Map<Device.Kind, DeviceAllocator> ALLOCATORS = new EnumMap<>(Device.Kind.class);

        private Registry() {}

        public static synchronized void register(Device.Kind kind, DeviceAllocator allocator) {
            ALLOCATORS.put(kind, allocator);
        }

        static synchronized Storage allocate(Device device, long bytes) {
            if (device.isHost()) return HostAllocator.get().allocate(bytes);
            DeviceAllocator a = ALLOCATORS.get(device.kind());
            if (a == null) throw new IllegalStateException("no allocator for device " + device + ": its backend is not loaded");
            return a.allocate(device, bytes);
        }
    }
}

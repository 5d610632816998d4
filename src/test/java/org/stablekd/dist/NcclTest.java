package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/**
 * What of {@link Nccl} runs without a GPU: the unique id's trip from rank 0 to every rank through
 * the host communicator, the refusal of host tensors, where the double[] collectives go, and the
 * one sentence when NCCL cannot start. NCCL itself runs in NcclGpuTest (tagged gpu).
 */
class NcclTest {

    /** A DeviceComm that fails the test if any tensor collective reaches it. */
    static final class NoDevice implements Nccl.DeviceComm {
        int calls;
        @Override public void allreduceSum(Tensor t) { calls++; throw new AssertionError("reached NCCL"); }
        @Override public void broadcast(Tensor t, int root) { calls++; throw new AssertionError("reached NCCL"); }
        @Override public void abort() { calls++; }
        @Override public void close() { calls++; }
        @Override public String version() { return "fake"; }
    }

    static byte[] idBytes() {
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) id[i] = (byte) (i * 37 + 5);   // every byte value class: negative, zero, positive
        id[7] = 0;
        id[8] = (byte) 0xff;
        id[9] = (byte) 0x80;
        return id;
    }

    @Test
    void everyRankGetsRankZerosUniqueId() throws Exception {
        int ranks = 3;
        InProcessGroup group = new InProcessGroup(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<byte[]>> got = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                Communicator c = group.member(r);
                got.add(pool.submit(() -> Nccl.shareUniqueId(c, () -> {
                    if (c.rank() != 0) throw new AssertionError("rank " + c.rank() + " made a unique id");
                    return idBytes();
                })));
            }
            for (int r = 0; r < ranks; r++) assertArrayEquals(idBytes(), got.get(r).get(), "rank " + r + "'s unique id");
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void whenRankZeroCannotMakeAnIdEveryRankFails() throws Exception {
        int ranks = 2;
        InProcessGroup group = new InProcessGroup(ranks);
        ExecutorService pool = Executors.newFixedThreadPool(ranks);
        try {
            List<Future<byte[]>> got = new ArrayList<>();
            for (int r = 0; r < ranks; r++) {
                Communicator c = group.member(r);
                got.add(pool.submit(() -> Nccl.shareUniqueId(c, () -> {
                    throw new IllegalStateException("ncclGetUniqueId failed: unhandled system error");
                })));
            }
            var e0 = assertThrows(java.util.concurrent.ExecutionException.class, () -> got.get(0).get());
            assertTrue(e0.getCause() instanceof IllegalStateException, "rank 0 keeps its own error: " + e0.getCause());
            var e1 = assertThrows(java.util.concurrent.ExecutionException.class, () -> got.get(1).get());
            assertTrue(e1.getCause() instanceof DistributedException && e1.getCause().getMessage().contains("rank 0 could not create"),
                    "rank 1: " + e1.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aUniqueIdOfTheWrongLengthIsRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> Nccl.shareUniqueId(Local.INSTANCE, () -> new byte[127]));
        assertTrue(e.getMessage().contains("128 bytes"), e.getMessage());
        assertArrayEquals(idBytes(), Nccl.shareUniqueId(Local.INSTANCE, NcclTest::idBytes), "one rank: its own id");
    }

    @Test
    void hostTensorsAreRefusedBeforeNcclIsReached() {
        NoDevice device = new NoDevice();
        Nccl nccl = new Nccl(Local.INSTANCE, device);
        Tensor host = Tensor.zeros(DType.F32, 4, 3);
        var e = assertThrows(IllegalArgumentException.class, () -> nccl.allreduceSum(host));
        assertTrue(e.getMessage().contains("needs a contiguous CUDA tensor") && e.getMessage().contains("host communicator"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> nccl.broadcast(host, 0));
        assertEquals(0, device.calls);
    }

    @Test
    void doublesAndBarriersGoThroughTheHostCommunicator() {
        NoDevice device = new NoDevice();
        Nccl nccl = new Nccl(Local.INSTANCE, device);
        assertArrayEquals(new double[] {1, 2}, nccl.allreduceSum(new double[] {1, 2}));
        assertArrayEquals(new double[] {3}, nccl.allreduceMax(new double[] {3}));
        nccl.barrier();
        assertEquals(0, nccl.rank());
        assertEquals(1, nccl.size());
        assertTrue(nccl.name().startsWith("nccl fake"), nccl.name());
        assertEquals(0, device.calls);
        nccl.close();
        assertEquals(1, device.calls, "close destroys the NCCL communicator");
    }

    @Test
    void withoutNcclStartSaysWhyInOneSentence() {
        String reason = Nccl.unavailableReason();
        Assumptions.assumeTrue(reason != null, "NCCL can start here: NcclGpuTest covers it");
        var e = assertThrows(DistributedException.class, () -> Nccl.start(Local.INSTANCE));
        assertEquals(reason, e.getMessage());
        assertFalse(reason.contains("\n"), reason);
        assertTrue(reason.contains("CUDA") || reason.contains("NCCL"), reason);
    }
}

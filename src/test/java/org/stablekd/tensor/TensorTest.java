package org.stablekd.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TensorTest {

    @Test
    void storageIsAlignedAndSizedExactly() {
        Tensor t = Tensor.empty(DType.F32, 3, 5);
        assertEquals(0, t.segment().address() % HostAllocator.ALIGNMENT);
        assertEquals(60, t.segment().byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> t.getFlat(15));
    }

    @Test
    void viewsShareStorageAndKnowTheirStrides() {
        Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 3, 2);
        Tensor v = t.viewAs(6, -1);
        assertEquals(Shape.of(6, 2), v.shape());
        Tensor n = t.narrowView(1, 1, 2);   // rows 1..2 of each 3-row block
        assertFalse(n.isContiguous());
        assertArrayEquals(new float[] {2, 3, 4, 5, 8, 9, 10, 11}, n.toFloatArray());
        Tensor p = t.permuteView(2, 0, 1);
        assertEquals(Shape.of(2, 2, 3), p.shape());
        assertEquals(7.0, p.get(1, 1, 0));
        Tensor e = Tensor.of(new float[] {1, 2, 3}, 1, 3).expandView(2, 3);
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, e.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> n.viewAs(8));
        assertThrows(IllegalArgumentException.class, () -> t.asStridedView(new int[] {13}, new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> t.viewAs(5, -1));
    }

    @Test
    void halfPrecisionConversions() {
        Tensor b = Tensor.empty(DType.BF16, 3);
        b.setFlat(0, 1.0).setFlat(1, -2.5).setFlat(2, 3.14159);
        assertEquals(1.0, b.getFlat(0));
        assertEquals(-2.5, b.getFlat(1));
        assertEquals(3.140625, b.getFlat(2), 0);  // nearest bfloat16
        Tensor h = Tensor.empty(DType.F16, 1).setFlat(0, 0.1);
        assertEquals(0.0999755859375, h.getFlat(0), 0);
    }

    @Test
    void fillAndScalars() {
        assertArrayEquals(new float[] {2.5f, 2.5f, 2.5f}, Tensor.full(DType.F32, 2.5, 3).toFloatArray());
        assertEquals(4.0, Tensor.scalar(DType.F64, 4).item());
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.F32, 2).item());
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(new float[3], 2, 2));
        assertTrue(Shape.of(5).toString().equals("(5,)"));
    }

    @Test
    void rngIsReproducibleAndRestorable() {
        Rng a = new Rng(42), b = new Rng(42);
        for (int i = 0; i < 10; i++) assertEquals(a.nextLong(), b.nextLong());
        a.nextGaussian();
        long[] st = a.state();
        double next = a.nextGaussian();
        b.setState(st);
        assertEquals(next, b.nextGaussian());
        int[] counts = new int[3];
        for (int i = 0; i < 3000; i++) counts[a.nextInt(3)]++;
        for (int c : counts) assertTrue(c > 900 && c < 1100, "nextInt is roughly uniform: " + c);
    }

    @Test
    void hostAccessorsOnADeviceTensorSayItIsOnTheDevice() {
        // a device tensor's storage has no host segment; before, toFloatArray failed with an index error
        Tensor t = Tensor.wrap(Storage.device(Device.cuda(0), 0x7000_0000L, 64, () -> {}), 0, DType.F32, Shape.of(4, 4));
        Tensor scalar = Tensor.wrap(Storage.device(Device.cuda(0), 0x7000_1000L, 4, () -> {}), 0, DType.F32, Shape.scalar());
        for (org.junit.jupiter.api.function.Executable read : new org.junit.jupiter.api.function.Executable[] {t::toFloatArray, scalar::item, () -> t.getFlat(0)}) {
            var e = assertThrows(IllegalStateException.class, read);
            assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains("toHost"), e.getMessage());
        }
    }
}

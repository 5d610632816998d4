package org.stablekd.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 16×16 float transposes in registers, between NCHW planes and channels-last pixels (16 channels
 * of one pixel per vector): d[dAt + j·dStride + i] = s[sAt + i·sStride + j] for i, j < 16, in four
 * stages of two-vector permutes (stage b swaps bit b of the row with bit b of the lane). Floats are
 * moved, never computed, so the bits are those of plain copies.
 *
 * <p>Two entry points with the same permutes, because a vector load stops being intrinsified where
 * one call site sees both arrays and memory segments (measured: one method over both, behind a
 * branch or through MemorySegment.ofArray, made WinogradChannelsLast 1.2–1.8× slower):
 * {@link #arrays} between scratch arrays, {@link #fromSegment} straight from a tensor's planes.
 * There is no store straight into a tensor's planes: 16 rows of 64 bytes 4 KB apart measured
 * slower than turning into a scratch block and copying it out plane by plane (16→16 at 32×32,
 * forward 1765 → 1947 µs per call).
 */
final class Transpose16 {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_512;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int VL = 16;

    private Transpose16() {}

    /** Between arrays. */
    static void arrays(float[] s, int sAt, int sStride, float[] d, int dAt, int dStride) {
        FloatVector a0 = FloatVector.fromArray(SPECIES, s, sAt + 0 * sStride);
        FloatVector a1 = FloatVector.fromArray(SPECIES, s, sAt + 1 * sStride);
        FloatVector a2 = FloatVector.fromArray(SPECIES, s, sAt + 2 * sStride);
        FloatVector a3 = FloatVector.fromArray(SPECIES, s, sAt + 3 * sStride);
        FloatVector a4 = FloatVector.fromArray(SPECIES, s, sAt + 4 * sStride);
        FloatVector a5 = FloatVector.fromArray(SPECIES, s, sAt + 5 * sStride);
        FloatVector a6 = FloatVector.fromArray(SPECIES, s, sAt + 6 * sStride);
        FloatVector a7 = FloatVector.fromArray(SPECIES, s, sAt + 7 * sStride);
        FloatVector a8 = FloatVector.fromArray(SPECIES, s, sAt + 8 * sStride);
        FloatVector a9 = FloatVector.fromArray(SPECIES, s, sAt + 9 * sStride);
        FloatVector a10 = FloatVector.fromArray(SPECIES, s, sAt + 10 * sStride);
        FloatVector a11 = FloatVector.fromArray(SPECIES, s, sAt + 11 * sStride);
        FloatVector a12 = FloatVector.fromArray(SPECIES, s, sAt + 12 * sStride);
        FloatVector a13 = FloatVector.fromArray(SPECIES, s, sAt + 13 * sStride);
        FloatVector a14 = FloatVector.fromArray(SPECIES, s, sAt + 14 * sStride);
        FloatVector a15 = FloatVector.fromArray(SPECIES, s, sAt + 15 * sStride);
        FloatVector b0 = LO0.selectFrom(a0, a1); FloatVector b1 = HI0.selectFrom(a0, a1);
        FloatVector b2 = LO0.selectFrom(a2, a3); FloatVector b3 = HI0.selectFrom(a2, a3);
        FloatVector b4 = LO0.selectFrom(a4, a5); FloatVector b5 = HI0.selectFrom(a4, a5);
        FloatVector b6 = LO0.selectFrom(a6, a7); FloatVector b7 = HI0.selectFrom(a6, a7);
        FloatVector b8 = LO0.selectFrom(a8, a9); FloatVector b9 = HI0.selectFrom(a8, a9);
        FloatVector b10 = LO0.selectFrom(a10, a11); FloatVector b11 = HI0.selectFrom(a10, a11);
        FloatVector b12 = LO0.selectFrom(a12, a13); FloatVector b13 = HI0.selectFrom(a12, a13);
        FloatVector b14 = LO0.selectFrom(a14, a15); FloatVector b15 = HI0.selectFrom(a14, a15);
        a0 = LO1.selectFrom(b0, b2); a2 = HI1.selectFrom(b0, b2);
        a1 = LO1.selectFrom(b1, b3); a3 = HI1.selectFrom(b1, b3);
        a4 = LO1.selectFrom(b4, b6); a6 = HI1.selectFrom(b4, b6);
        a5 = LO1.selectFrom(b5, b7); a7 = HI1.selectFrom(b5, b7);
        a8 = LO1.selectFrom(b8, b10); a10 = HI1.selectFrom(b8, b10);
        a9 = LO1.selectFrom(b9, b11); a11 = HI1.selectFrom(b9, b11);
        a12 = LO1.selectFrom(b12, b14); a14 = HI1.selectFrom(b12, b14);
        a13 = LO1.selectFrom(b13, b15); a15 = HI1.selectFrom(b13, b15);
        b0 = LO2.selectFrom(a0, a4); b4 = HI2.selectFrom(a0, a4);
        b1 = LO2.selectFrom(a1, a5); b5 = HI2.selectFrom(a1, a5);
        b2 = LO2.selectFrom(a2, a6); b6 = HI2.selectFrom(a2, a6);
        b3 = LO2.selectFrom(a3, a7); b7 = HI2.selectFrom(a3, a7);
        b8 = LO2.selectFrom(a8, a12); b12 = HI2.selectFrom(a8, a12);
        b9 = LO2.selectFrom(a9, a13); b13 = HI2.selectFrom(a9, a13);
        b10 = LO2.selectFrom(a10, a14); b14 = HI2.selectFrom(a10, a14);
        b11 = LO2.selectFrom(a11, a15); b15 = HI2.selectFrom(a11, a15);
        a0 = LO3.selectFrom(b0, b8); a8 = HI3.selectFrom(b0, b8);
        a1 = LO3.selectFrom(b1, b9); a9 = HI3.selectFrom(b1, b9);
        a2 = LO3.selectFrom(b2, b10); a10 = HI3.selectFrom(b2, b10);
        a3 = LO3.selectFrom(b3, b11); a11 = HI3.selectFrom(b3, b11);
        a4 = LO3.selectFrom(b4, b12); a12 = HI3.selectFrom(b4, b12);
        a5 = LO3.selectFrom(b5, b13); a13 = HI3.selectFrom(b5, b13);
        a6 = LO3.selectFrom(b6, b14); a14 = HI3.selectFrom(b6, b14);
        a7 = LO3.selectFrom(b7, b15); a15 = HI3.selectFrom(b7, b15);
        a0.intoArray(d, dAt + 0 * dStride);
        a1.intoArray(d, dAt + 1 * dStride);
        a2.intoArray(d, dAt + 2 * dStride);
        a3.intoArray(d, dAt + 3 * dStride);
        a4.intoArray(d, dAt + 4 * dStride);
        a5.intoArray(d, dAt + 5 * dStride);
        a6.intoArray(d, dAt + 6 * dStride);
        a7.intoArray(d, dAt + 7 * dStride);
        a8.intoArray(d, dAt + 8 * dStride);
        a9.intoArray(d, dAt + 9 * dStride);
        a10.intoArray(d, dAt + 10 * dStride);
        a11.intoArray(d, dAt + 11 * dStride);
        a12.intoArray(d, dAt + 12 * dStride);
        a13.intoArray(d, dAt + 13 * dStride);
        a14.intoArray(d, dAt + 14 * dStride);
        a15.intoArray(d, dAt + 15 * dStride);
    }

    /** From a tensor's memory: float index sAt, rows sStride floats apart. */
    static void fromSegment(MemorySegment s, long sAt, long sStride, float[] d, int dAt, int dStride) {
        FloatVector a0 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 0 * sStride) * Float.BYTES, ORDER);
        FloatVector a1 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 1 * sStride) * Float.BYTES, ORDER);
        FloatVector a2 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 2 * sStride) * Float.BYTES, ORDER);
        FloatVector a3 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 3 * sStride) * Float.BYTES, ORDER);
        FloatVector a4 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 4 * sStride) * Float.BYTES, ORDER);
        FloatVector a5 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 5 * sStride) * Float.BYTES, ORDER);
        FloatVector a6 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 6 * sStride) * Float.BYTES, ORDER);
        FloatVector a7 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 7 * sStride) * Float.BYTES, ORDER);
        FloatVector a8 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 8 * sStride) * Float.BYTES, ORDER);
        FloatVector a9 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 9 * sStride) * Float.BYTES, ORDER);
        FloatVector a10 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 10 * sStride) * Float.BYTES, ORDER);
        FloatVector a11 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 11 * sStride) * Float.BYTES, ORDER);
        FloatVector a12 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 12 * sStride) * Float.BYTES, ORDER);
        FloatVector a13 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 13 * sStride) * Float.BYTES, ORDER);
        FloatVector a14 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 14 * sStride) * Float.BYTES, ORDER);
        FloatVector a15 = FloatVector.fromMemorySegment(SPECIES, s, (sAt + 15 * sStride) * Float.BYTES, ORDER);
        FloatVector b0 = LO0.selectFrom(a0, a1); FloatVector b1 = HI0.selectFrom(a0, a1);
        FloatVector b2 = LO0.selectFrom(a2, a3); FloatVector b3 = HI0.selectFrom(a2, a3);
        FloatVector b4 = LO0.selectFrom(a4, a5); FloatVector b5 = HI0.selectFrom(a4, a5);
        FloatVector b6 = LO0.selectFrom(a6, a7); FloatVector b7 = HI0.selectFrom(a6, a7);
        FloatVector b8 = LO0.selectFrom(a8, a9); FloatVector b9 = HI0.selectFrom(a8, a9);
        FloatVector b10 = LO0.selectFrom(a10, a11); FloatVector b11 = HI0.selectFrom(a10, a11);
        FloatVector b12 = LO0.selectFrom(a12, a13); FloatVector b13 = HI0.selectFrom(a12, a13);
        FloatVector b14 = LO0.selectFrom(a14, a15); FloatVector b15 = HI0.selectFrom(a14, a15);
        a0 = LO1.selectFrom(b0, b2); a2 = HI1.selectFrom(b0, b2);
        a1 = LO1.selectFrom(b1, b3); a3 = HI1.selectFrom(b1, b3);
        a4 = LO1.selectFrom(b4, b6); a6 = HI1.selectFrom(b4, b6);
        a5 = LO1.selectFrom(b5, b7); a7 = HI1.selectFrom(b5, b7);
        a8 = LO1.selectFrom(b8, b10); a10 = HI1.selectFrom(b8, b10);
        a9 = LO1.selectFrom(b9, b11); a11 = HI1.selectFrom(b9, b11);
        a12 = LO1.selectFrom(b12, b14); a14 = HI1.selectFrom(b12, b14);
        a13 = LO1.selectFrom(b13, b15); a15 = HI1.selectFrom(b13, b15);
        b0 = LO2.selectFrom(a0, a4); b4 = HI2.selectFrom(a0, a4);
        b1 = LO2.selectFrom(a1, a5); b5 = HI2.selectFrom(a1, a5);
        b2 = LO2.selectFrom(a2, a6); b6 = HI2.selectFrom(a2, a6);
        b3 = LO2.selectFrom(a3, a7); b7 = HI2.selectFrom(a3, a7);
        b8 = LO2.selectFrom(a8, a12); b12 = HI2.selectFrom(a8, a12);
        b9 = LO2.selectFrom(a9, a13); b13 = HI2.selectFrom(a9, a13);
        b10 = LO2.selectFrom(a10, a14); b14 = HI2.selectFrom(a10, a14);
        b11 = LO2.selectFrom(a11, a15); b15 = HI2.selectFrom(a11, a15);
        a0 = LO3.selectFrom(b0, b8); a8 = HI3.selectFrom(b0, b8);
        a1 = LO3.selectFrom(b1, b9); a9 = HI3.selectFrom(b1, b9);
        a2 = LO3.selectFrom(b2, b10); a10 = HI3.selectFrom(b2, b10);
        a3 = LO3.selectFrom(b3, b11); a11 = HI3.selectFrom(b3, b11);
        a4 = LO3.selectFrom(b4, b12); a12 = HI3.selectFrom(b4, b12);
        a5 = LO3.selectFrom(b5, b13); a13 = HI3.selectFrom(b5, b13);
        a6 = LO3.selectFrom(b6, b14); a14 = HI3.selectFrom(b6, b14);
        a7 = LO3.selectFrom(b7, b15); a15 = HI3.selectFrom(b7, b15);
        a0.intoArray(d, dAt + 0 * dStride);
        a1.intoArray(d, dAt + 1 * dStride);
        a2.intoArray(d, dAt + 2 * dStride);
        a3.intoArray(d, dAt + 3 * dStride);
        a4.intoArray(d, dAt + 4 * dStride);
        a5.intoArray(d, dAt + 5 * dStride);
        a6.intoArray(d, dAt + 6 * dStride);
        a7.intoArray(d, dAt + 7 * dStride);
        a8.intoArray(d, dAt + 8 * dStride);
        a9.intoArray(d, dAt + 9 * dStride);
        a10.intoArray(d, dAt + 10 * dStride);
        a11.intoArray(d, dAt + 11 * dStride);
        a12.intoArray(d, dAt + 12 * dStride);
        a13.intoArray(d, dAt + 13 * dStride);
        a14.intoArray(d, dAt + 14 * dStride);
        a15.intoArray(d, dAt + 15 * dStride);
    }

    /**
     * Index vectors of the transpose's stage b (0..15: the first vector's lanes, 16..31 the second's):
     * LOb[l] = l if bit b of l is 0, else 16 + l − 2^b; HIb[l] = l + 2^b if bit b of l is 0, else 16 + l.
     */
    private static final FloatVector LO0 = stage(0, false), HI0 = stage(0, true), LO1 = stage(1, false), HI1 = stage(1, true),
            LO2 = stage(2, false), HI2 = stage(2, true), LO3 = stage(3, false), HI3 = stage(3, true);

    private static FloatVector stage(int b, boolean hi) {
        float[] idx = new float[VL];
        int step = 1 << b;
        for (int l = 0; l < VL; l++) {
            boolean set = (l & step) != 0;
            idx[l] = hi ? (set ? VL + l : l + step) : (set ? VL + l - step : l);
        }
        return FloatVector.fromArray(SPECIES, idx, 0);
    }
}

package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The 16×16 transposes ({@link Transpose16}) move every float exactly once, from arrays and from a
 * tensor's memory, strides and offsets honoured and nothing else written; and
 * WinogradChannelsLast.toChannelsLast, which uses them straight from the planes (16 channels, rows
 * of whole vectors) or through staging copies (otherwise), lays out every live pixel, the zero
 * border and the rows outside the image as its comment says.
 */
class Transpose16Test {
    private static final int S_STRIDE = 19, D_STRIDE = 23, S_AT = 3, D_AT = 5;

    /** d as it must be after a transpose of s (s[i] = i) from S_AT into a d of -1 from D_AT. */
    private static void assertTransposed(float[] d) {
        for (int i = 0; i < d.length; i++) {
            int rel = i - D_AT, row = rel / D_STRIDE, col = rel % D_STRIDE;
            boolean inside = rel >= 0 && row < 16 && col < 16;
            float want = inside ? S_AT + col * S_STRIDE + row : -1f;
            assertEquals(want, d[i], "d[" + i + "]");
        }
    }

    @Test
    void arraysIsATranspose() {
        float[] s = new float[S_AT + 15 * S_STRIDE + 16], d = new float[D_AT + 15 * D_STRIDE + 16 + 3];
        for (int i = 0; i < s.length; i++) s[i] = i;
        java.util.Arrays.fill(d, -1f);
        Transpose16.arrays(s, S_AT, S_STRIDE, d, D_AT, D_STRIDE);
        assertTransposed(d);
    }

    @Test
    void fromSegmentIsATranspose() {
        try (Arena arena = Arena.ofConfined()) {
            int n = S_AT + 15 * S_STRIDE + 16;
            MemorySegment s = arena.allocate((long) n * Float.BYTES, 64);
            for (int i = 0; i < n; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            float[] d = new float[D_AT + 15 * D_STRIDE + 16 + 3];
            java.util.Arrays.fill(d, -1f);
            Transpose16.fromSegment(s, S_AT, S_STRIDE, d, D_AT, D_STRIDE);
            assertTransposed(d);
        }
    }

    /**
     * xt[(r·wp + 1 + col)·c + ci] = x[ci][row0 + r][col] inside the image, 0 elsewhere (rows above and
     * below it, column 0, columns past w), for image 1 of 2 (an offset into x): the straight path (16
     * channels, w a multiple of 16) and the staged ones (32 channels; w not a multiple of 16).
     */
    @ParameterizedTest(name = "c={0} h={1} w={2} row0={3} inRows={4}")
    @CsvSource({"16, 32, 32, -1, 10", "16, 32, 32, 27, 6", "16, 16, 16, -1, 18", "32, 16, 16, -1, 10",
                "32, 16, 16, 11, 6", "16, 28, 28, 23, 6", "16, 7, 7, -1, 10"})
    void toChannelsLastLaysOutRowsWithAZeroBorder(int c, int h, int w, int row0, int inRows) {
        int wp = 4 * ((w + 3) / 4) + 2;
        long image = (long) c * h * w;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(2 * image * Float.BYTES, 64);
            for (long i = 0; i < 2 * image; i++) x.setAtIndex(ValueLayout.JAVA_FLOAT, i, 1 + i);   // never 0
            float[] rows = new float[c * inRows * w], xt = new float[inRows * wp * c], tmp = new float[36 * 16];
            java.util.Arrays.fill(xt, Float.NaN);   // every entry must be written
            WinogradChannelsLast.toChannelsLast(x, image, c, h, w, row0, inRows, wp, rows, xt, tmp);
            for (int r = 0; r < inRows; r++)
                for (int col = 0; col < wp; col++)
                    for (int ci = 0; ci < c; ci++) {
                        int row = row0 + r, xc = col - 1;
                        boolean inside = row >= 0 && row < h && xc >= 0 && xc < w;
                        float want = inside ? 1 + image + ((long) ci * h + row) * w + xc : 0f;
                        assertEquals(want, xt[(r * wp + col) * c + ci], "r=" + r + " col=" + col + " ci=" + ci);
                    }
        }
    }
}

package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * WinogradWeightTransform.lanes against one weight at a time in scalar double code, the
 * operations in the same order (the code it replaced, kept here as the oracle of its bits), and
 * against G g Gᵀ as a plain matrix product in double with G's exact fractions.
 */
class WinogradWeightTransformTest {
    private static final double[][] G = {
            {1 / 4.0, 0, 0}, {-1 / 6.0, -1 / 6.0, -1 / 6.0}, {-1 / 6.0, 1 / 6.0, -1 / 6.0},
            {1 / 24.0, 1 / 12.0, 1 / 6.0}, {1 / 24.0, -1 / 12.0, 1 / 6.0}, {0, 0, 1}};

    /** k output channels (some past the last whole group of lanes), c input channels, with and without flip. */
    @ParameterizedTest(name = "k={0} c={1} flip={2}")
    @CsvSource({"16, 16, false", "16, 16, true", "64, 32, false", "32, 64, true", "10, 3, false", "13, 7, true", "1, 1, false"})
    void sameBitsAsOneWeightAtATimeAndCloseToTheMatrixProduct(int k, int c, boolean flip) {
        Random rng = new Random(k * 100 + c);
        float[] w = new float[k * c * 9];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() * (i % 7 == 0 ? 100 : 0.1));
        int lanes = WinogradWeightTransform.LANES, groups = Sgemm.ceilDiv(k, lanes), stride = groups * lanes * c + 5;
        float[] out = new float[WinogradConv.POSITIONS * stride];
        java.util.Arrays.fill(out, Float.NaN);   // the padding lanes must be written (0), not left
        double[] scratch = new double[WinogradWeightTransform.SCRATCH];
        for (int g = 0; g < groups; g++)
            for (int ci = 0; ci < c; ci++) WinogradWeightTransform.lanes(w, k, c, flip, g * lanes, ci, scratch, out, (g * c + ci) * lanes, stride);
        for (int kk = 0; kk < groups * lanes; kk++) {
            for (int ci = 0; ci < c; ci++) {
                double[] g = new double[9];
                if (kk < k) {
                    for (int i = 0; i < 3; i++)
                        for (int j = 0; j < 3; j++)
                            g[i * 3 + j] = flip ? w[((ci * k + kk) * 3 + 2 - i) * 3 + 2 - j] : w[((kk * c + ci) * 3 + i) * 3 + j];
                }
                double[] scalar = scalarTransform(g);
                for (int xi = 0; xi < WinogradConv.POSITIONS; xi++) {
                    float got = out[xi * stride + ((kk / lanes) * c + ci) * lanes + kk % lanes];
                    String at = "kk=" + kk + " ci=" + ci + " ξ=" + xi;
                    if (kk >= k) {
                        assertEquals(0, Float.floatToRawIntBits(got), "padding lane must be +0, " + at);
                        continue;
                    }
                    assertEquals(Float.floatToRawIntBits((float) scalar[xi]), Float.floatToRawIntBits(got), at);
                    double exact = 0;
                    int i = xi / 6, j = xi % 6;
                    for (int a = 0; a < 3; a++)
                        for (int b = 0; b < 3; b++) exact += G[i][a] * g[a * 3 + b] * G[j][b];
                    double scale = 0;
                    for (double v : g) scale += Math.abs(v);
                    assertTrue(Math.abs(got - exact) <= 1e-7 * scale + Math.ulp((float) exact), at + ": " + got + " vs " + exact);
                }
            }
        }
    }

    /** One weight: G g in columns, then each row of G g times Gᵀ; the reciprocals as products, as the engine's code did before lanes. */
    private static double[] scalarTransform(double[] g) {
        double[] gg = new double[18], u = new double[36];
        for (int j = 0; j < 3; j++) column(g[j], g[3 + j], g[6 + j], gg, j, 3);
        for (int i = 0; i < 6; i++) column(gg[i * 3], gg[i * 3 + 1], gg[i * 3 + 2], u, i * 6, 1);
        return u;
    }

    private static void column(double g0, double g1, double g2, double[] out, int at, int stride) {
        double sum = g0 + g2, a = g0 * (1.0 / 24) + g2 * (1.0 / 6), b = g1 * (1.0 / 12);
        out[at] = g0 * 0.25;
        out[at + stride] = -(sum + g1) * (1.0 / 6);
        out[at + 2 * stride] = -(sum - g1) * (1.0 / 6);
        out[at + 3 * stride] = a + b;
        out[at + 4 * stride] = a - b;
        out[at + 5 * stride] = g2;
    }
}

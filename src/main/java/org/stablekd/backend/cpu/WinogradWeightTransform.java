package org.stablekd.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Winograd F(4×4, 3×3)'s weight transform, U = G g Gᵀ (6×6 from each 3×3 weight g), for
 * {@link #LANES} consecutive output channels at once: one double vector lane per weight, so the
 * 36 values of U land as runs of LANES floats, which is how both layouts that use them store
 * consecutive output channels ({@link WinogradConv}'s GridGemm panels, {@link WinogradChannelsLast}'s
 * U blocks).
 * <pre>
 *   G = [ 1/4 0 0; −1/6 −1/6 −1/6; −1/6 1/6 −1/6; 1/24 1/12 1/6; 1/24 −1/12 1/6; 0 0 1 ]
 * </pre>
 * In double, rounded to float once: the same operations in the same order as one weight at a
 * time in scalar code (no fused multiply-adds, the reciprocals as constants), so the same bits.
 * Why vectors: training transforms every layer's weights twice per step (forward, and flipped
 * for the input gradient); one weight at a time this was about 1.7 % of resnet20's step (JFR,
 * 2026-12-06).
 */
final class WinogradWeightTransform {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /**
     * Floats of the same vector shape as D (the engine's one float shape: a second shape, a
     * 256-bit float vector for the 8 results, made the JIT's type profiles of the shared vector
     * code polymorphic and left WinogradWeightGradBands' product out of line: resnet20's step 14 %
     * slower, 2026-12-06).
     */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, D.vectorShape());
    /** Output channels per call: the double vector's lanes (8 with AVX-512, 4 with AVX2); divides GridGemm.MR. */
    static final int LANES = D.length();
    /** Doubles of scratch a call needs: g (9 taps), G g (6 × 3) and U (36), LANES each. */
    static final int SCRATCH = 63 * LANES;
    private static final int GG = 9 * LANES, UU = 27 * LANES;

    private WinogradWeightTransform() {}

    /**
     * out[at + ξ·stride + l] = (float) (G g Gᵀ)[ξ] of the weight g = w[kk0 + l][ci], for l < LANES
     * and the 36 positions ξ = 6i + j; 0 for kk0 + l ≥ k. w is (k, c, 3, 3), or with flip the
     * input gradient's weights w'[kk][ci] = w[ci][kk] rotated by 180° (w then (c, k, 3, 3)).
     */
    static void lanes(float[] w, int k, int c, boolean flip, int kk0, int ci, double[] s, float[] out, int at, int stride) {
        int live = Math.min(LANES, k - kk0);
        for (int l = 0; l < LANES; l++) {
            int kk = kk0 + l;
            if (l >= live) {
                for (int tap = 0; tap < 9; tap++) s[tap * LANES + l] = 0;
            } else if (flip) {
                for (int tap = 0, from = (ci * k + kk) * 9 + 8; tap < 9; tap++) s[tap * LANES + l] = w[from - tap];
            } else {
                for (int tap = 0, from = (kk * c + ci) * 9; tap < 9; tap++) s[tap * LANES + l] = w[from + tap];
            }
        }
        // G g (6, 3): column j from the taps (0, j), (1, j), (2, j)
        for (int j = 0; j < 3; j++) column(s, j * LANES, 3 * LANES, GG + j * LANES, 3 * LANES);
        // U = (G g) Gᵀ: row i of G g gives U[i][0..5]
        for (int i = 0; i < WinogradConv.ALPHA; i++) column(s, GG + i * 3 * LANES, LANES, UU + i * WinogradConv.ALPHA * LANES, LANES);
        // rounded to float: the first LANES lanes of a float vector, the dead ones (the panels' padding rows) +0
        VectorMask<Float> first = F.indexInRange(0, LANES), dead = first.andNot(F.indexInRange(0, live));
        for (int xi = 0; xi < WinogradConv.POSITIONS; xi++) {
            FloatVector f = (FloatVector) DoubleVector.fromArray(D, s, UU + xi * LANES).convertShape(VectorOperators.D2F, F, 0);
            f.blend(0f, dead).intoArray(out, at + xi * stride, first);
        }
    }

    /** s[o + e·os ..] = (G (g0, g1, g2))[e], e < 6, for g_m = s[i + m·is ..], LANES doubles each (arrays, not vectors, cross the call). */
    private static void column(double[] s, int i, int is, int o, int os) {
        DoubleVector g0 = DoubleVector.fromArray(D, s, i), g1 = DoubleVector.fromArray(D, s, i + is), g2 = DoubleVector.fromArray(D, s, i + 2 * is);
        DoubleVector sum = g0.add(g2), a = g0.mul(1.0 / 24).add(g2.mul(1.0 / 6)), b = g1.mul(1.0 / 12);
        g0.mul(0.25).intoArray(s, o);
        sum.add(g1).neg().mul(1.0 / 6).intoArray(s, o + os);
        sum.sub(g1).neg().mul(1.0 / 6).intoArray(s, o + 2 * os);
        a.add(b).intoArray(s, o + 3 * os);
        a.sub(b).intoArray(s, o + 4 * os);
        g2.intoArray(s, o + 5 * os);
    }
}

package org.stablekd.distill.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.stablekd.tensor.Rng;

class SamplingTest {

    /** Sample mean and variance of Beta(a, b) against a/(a+b) and ab/((a+b)²(a+b+1)), within 5 standard errors. */
    private static void checkBeta(double a, double b) {
        Rng rng = new Rng(123);
        int n = 40_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++) {
            double x = Sampling.beta(rng, a, b);
            assertTrue(x >= 0 && x <= 1, "Beta sample " + x);
            sum += x;
            sumSq += x * x;
        }
        double mean = sum / n, var = sumSq / n - mean * mean;
        double expMean = a / (a + b), expVar = a * b / ((a + b) * (a + b) * (a + b + 1));
        assertEquals(expMean, mean, 5 * Math.sqrt(expVar / n), "mean of Beta(" + a + "," + b + ")");
        assertEquals(expVar, var, 0.05 * expVar, "variance of Beta(" + a + "," + b + ")");
    }

    @Test
    void betaHasTheRightMoments() {
        checkBeta(1, 1);
        checkBeta(0.2, 0.2);
        checkBeta(2, 5);
        checkBeta(0.5, 3);
    }

    @Test
    void betaOneOneIsOneUniformDraw() {
        Rng a = new Rng(5), b = new Rng(5);
        assertEquals(b.nextDouble(), Sampling.beta(a, 1, 1));
        assertEquals(b.nextLong(), a.nextLong(), "exactly one draw was consumed");
        assertThrows(IllegalArgumentException.class, () -> Sampling.beta(a, 0, 1));
    }

    @Test
    void permutationsAndDerangements() {
        Rng rng = new Rng(9);
        for (int t = 0; t < 200; t++) {
            int n = 1 + t % 7;
            int[] p = Sampling.permutation(rng, n), d = Sampling.derangement(rng, n);
            assertArrayEquals(IntStream.range(0, n).toArray(), Arrays.stream(p).sorted().toArray());
            assertArrayEquals(IntStream.range(0, n).toArray(), Arrays.stream(d).sorted().toArray());
            if (n > 1) for (int i = 0; i < n; i++) assertTrue(d[i] != i, "fixed point in " + Arrays.toString(d));
        }
    }
}

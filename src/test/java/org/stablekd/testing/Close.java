package org.stablekd.testing;

import java.util.Arrays;
import org.opentest4j.AssertionFailedError;
import org.stablekd.tensor.Tensor;

/** The one closeness assertion: prints the first mismatches and the largest difference. */
public final class Close {
    private static final int SHOWN = 8;

    private Close() {}

    public static void assertClose(Tensor actual, Tensor expected, Tolerance tol, String what) {
        if (!actual.shape().equals(expected.shape())) {
            throw new AssertionFailedError(what + ": shape " + actual.shape() + " differs from expected " + expected.shape());
        }
        assertClose(actual.toDoubleArray(), expected.toDoubleArray(), tol, what);
    }

    public static void assertClose(float[] actual, float[] expected, Tolerance tol, String what) {
        assertClose(toDouble(actual), toDouble(expected), tol, what);
    }

    public static void assertClose(double[] actual, double[] expected, Tolerance tol, String what) {
        if (actual.length != expected.length) {
            throw new AssertionFailedError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int bad = 0;
        double maxDiff = 0;
        int maxAt = -1;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i], e = expected[i];
            double diff = Math.abs(a - e);
            boolean ok = (Double.isNaN(a) && Double.isNaN(e)) || (a == e) || diff <= tol.atol() + tol.rtol() * Math.abs(e);
            if (Double.isNaN(diff) && !(Double.isNaN(a) && Double.isNaN(e))) diff = Double.POSITIVE_INFINITY;
            if (!ok) {
                if (bad < SHOWN) first.append(String.format("%n  [%d] actual %.9g expected %.9g diff %.3g", i, a, e, diff));
                bad++;
            }
            if (diff > maxDiff && !(Double.isNaN(a) && Double.isNaN(e))) {
                maxDiff = diff;
                maxAt = i;
            }
        }
        if (bad > 0) {
            throw new AssertionFailedError(String.format("%s: %d of %d values differ (atol %.1g, rtol %.1g); max diff %.3g at [%d]; first:%s",
                    what, bad, actual.length, tol.atol(), tol.rtol(), maxDiff, maxAt, first));
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** Sanity helper for messages. */
    public static String head(double[] v) {
        return Arrays.toString(Arrays.copyOf(v, Math.min(v.length, 6)));
    }
}

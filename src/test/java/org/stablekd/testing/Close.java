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

    /** {@link #assertCloseAllowingNonFinite(double[], double[], Tolerance, String)} over two tensors of one shape. */
    public static void assertCloseAllowingNonFinite(Tensor actual, Tensor expected, Tolerance tol, String what) {
        if (!actual.shape().equals(expected.shape())) {
            throw new AssertionFailedError(what + ": shape " + actual.shape() + " differs from expected " + expected.shape());
        }
        assertCloseAllowingNonFinite(actual.toDoubleArray(), expected.toDoubleArray(), tol, what);
    }

    public static void assertClose(float[] actual, float[] expected, Tolerance tol, String what) {
        assertClose(toDouble(actual), toDouble(expected), tol, what);
    }

    /**
     * Fails unless every value is finite on both sides and within {@code tol}. A NaN or infinity
     * never passes, not even against the same value in {@code expected}: a front-end bug that
     * makes both the kernel and its oracle read poisoned (NaN) memory must not look like agreement.
     * Tests that really expect a non-finite value use {@link #assertCloseAllowingNonFinite}.
     */
    public static void assertClose(double[] actual, double[] expected, Tolerance tol, String what) {
        compare(actual, expected, tol, what, false);
    }

    /**
     * As {@link #assertClose(double[], double[], Tolerance, String)}, except that where
     * {@code expected} is NaN or ±infinity, {@code actual} must be exactly the same kind of value.
     * Only for tests whose point is a non-finite result (e.g. an overflow that must propagate).
     */
    public static void assertCloseAllowingNonFinite(double[] actual, double[] expected, Tolerance tol, String what) {
        compare(actual, expected, tol, what, true);
    }

    private static void compare(double[] actual, double[] expected, Tolerance tol, String what, boolean expectedMayBeNonFinite) {
        if (actual.length != expected.length) {
            throw new AssertionFailedError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int bad = 0, nonFinite = 0, firstNonFinite = -1;
        double maxDiff = 0;
        int maxAt = -1;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < actual.length; i++) {
            double a = actual[i], e = expected[i];
            boolean ok;
            double diff;
            if (!Double.isFinite(e) && expectedMayBeNonFinite) {
                ok = Double.compare(a, e) == 0 || (Double.isNaN(a) && Double.isNaN(e));
                diff = ok ? 0 : Double.POSITIVE_INFINITY;
            } else if (!Double.isFinite(a) || !Double.isFinite(e)) {
                ok = false;
                diff = Double.POSITIVE_INFINITY;
                if (nonFinite++ == 0) firstNonFinite = i;
            } else {
                diff = Math.abs(a - e);
                ok = diff <= tol.atol() + tol.rtol() * Math.abs(e);
            }
            if (!ok) {
                if (bad < SHOWN) first.append(String.format("%n  [%d] actual %.9g expected %.9g diff %.3g", i, a, e, diff));
                bad++;
            }
            if (diff > maxDiff) {
                maxDiff = diff;
                maxAt = i;
            }
        }
        if (bad > 0) {
            String nan = nonFinite == 0 ? "" : String.format(" (%d non-finite, the first at [%d])", nonFinite, firstNonFinite);
            throw new AssertionFailedError(String.format("%s: %d of %d values differ%s (atol %.1g, rtol %.1g); max diff %.3g at [%d]; first:%s",
                    what, bad, actual.length, nan, tol.atol(), tol.rtol(), maxDiff, maxAt, first));
        }
    }

    /**
     * The same bits in both arrays, and every value finite: for determinism tests (run twice,
     * compare), where two all-NaN results must not count as the same result.
     */
    public static void assertBitIdentical(float[] expected, float[] actual, String what) {
        if (actual.length != expected.length) {
            throw new AssertionFailedError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            if (!Float.isFinite(expected[i]) || !Float.isFinite(actual[i])) {
                throw new AssertionFailedError(String.format("%s: [%d] is not finite (%s vs %s): a run that produces NaN or infinity is not a reproducible result",
                        what, i, expected[i], actual[i]));
            }
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionFailedError(String.format("%s: [%d] differs: %.9g vs %.9g (not bit-identical)", what, i, expected[i], actual[i]));
            }
        }
    }

    public static void assertBitIdentical(float[] expected, float[] actual) {
        assertBitIdentical(expected, actual, "bit-identical");
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

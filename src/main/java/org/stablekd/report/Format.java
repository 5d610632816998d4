package org.stablekd.report;

import java.util.Locale;

/** Number formats for reports: one locale (a decimal point everywhere), a dash for "no value". */
final class Format {
    static final String NONE = "—";

    private Format() {}

    /** "71.23 %" */
    static String percent(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2f %%", v) : NONE;
    }

    /** "8.3 s", "12 min 05 s", "3 h 07 min" */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return NONE;
        if (seconds < 60) return String.format(Locale.ROOT, "%.1f s", seconds);
        long s = Math.round(seconds);
        if (s < 3600) return String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
        long m = Math.round(seconds / 60);
        return String.format(Locale.ROOT, "%d h %02d min", m / 60, m % 60);
    }

    /** "1,234" (whole numbers with a thousands separator; one decimal below 10) */
    static String rate(double v) {
        if (!Double.isFinite(v)) return NONE;
        return v < 10 ? String.format(Locale.ROOT, "%.1f", v) : String.format(Locale.ROOT, "%,.0f", v);
    }

    static String count(int v) {
        return v < 0 ? NONE : Integer.toString(v);
    }

    /** A file size: "812 B", "4.1 KiB", "2.3 MiB". */
    static String bytes(long n) {
        if (n < 1024) return n + " B";
        if (n < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", n / 1024.0);
        if (n < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", n / 1048576.0);
        return String.format(Locale.ROOT, "%.2f GiB", n / 1073741824.0);
    }

    /** Text made safe for HTML content and attribute values. */
    static String html(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}

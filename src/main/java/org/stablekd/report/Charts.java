package org.stablekd.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Line charts rendered to PNG (headless AWT through XChart). {@link #line} draws series in one
 * call; {@link #plot} adds what reports need: a log or fixed y range, dashed reference lines
 * (a target accuracy, a stage boundary) and shaded x bands (training stages).
 */
public final class Charts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    /** Tableau-like colours, distinct on white and in grey scale order; index i picks PALETTE[i % n]. */
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf),
        new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x393b79), new Color(0xad494a)};
    private static final Color BAND = new Color(0, 0, 0, 14);
    private static final Color REFERENCE_LINE = new Color(0x666666);

    private Charts() {}

    /**
     * One named series of (x, y) points.
     *
     * @param color a palette index, so a block or run keeps its colour across charts; −1 for the next free one
     */
    public record Series(String name, List<Double> x, List<Double> y, int color) {
        public Series(String name, List<Double> x, List<Double> y) {
            this(name, x, y, -1);
        }

        public Series {
            if (x.size() != y.size()) throw new IllegalArgumentException("series '" + name + "' has " + x.size() + " x and " + y.size() + " y values");
        }

        public Series withColor(int paletteIndex) {
            return new Series(name, x, y, paletteIndex);
        }
    }

    /** A line chart; {@code logY} for losses and noise ratios spanning decades. */
    public static byte[] line(String title, String xLabel, String yLabel, List<Series> series, boolean logY) throws IOException {
        return plot(title, xLabel, yLabel).series(series).logY(logY).png();
    }

    /** A chart to configure, then render with {@link Plot#png()}. */
    public static Plot plot(String title, String xLabel, String yLabel) {
        return new Plot(title, xLabel, yLabel);
    }

    /** The colour a palette index stands for. */
    public static Color color(int paletteIndex) {
        return PALETTE[Math.floorMod(paletteIndex, PALETTE.length)];
    }

    /** A chart under construction. Points that cannot be drawn (non-finite; ≤ 0 on a log axis) are left out. */
    public static final class Plot {
        private final String title, xLabel, yLabel;
        private final List<Series> series = new ArrayList<>();
        private final List<ChartMarks.Line> lines = new ArrayList<>();
        private final List<ChartMarks.Band> bands = new ArrayList<>();
        private final java.util.Map<String, List<Double>> errorBars = new java.util.HashMap<>();
        private boolean logY;
        private Double yMin, yMax;
        private int width = 820, height = 460;

        private Plot(String title, String xLabel, String yLabel) {
            this.title = title;
            this.xLabel = xLabel;
            this.yLabel = yLabel;
        }

        public Plot series(List<Series> s) {
            series.addAll(s);
            return this;
        }

        /** Vertical error bars (± err[i] around point i) on the series named {@code name}. */
        public Plot errorBars(String name, List<Double> err) {
            errorBars.put(name, err);
            return this;
        }

        public Plot logY(boolean on) {
            logY = on;
            return this;
        }

        /** Fixes the y axis (e.g. the same range for charts meant to be compared side by side). */
        public Plot yRange(double min, double max) {
            yMin = min;
            yMax = max;
            return this;
        }

        public Plot size(int w, int h) {
            width = w;
            height = h;
            return this;
        }

        /** A dashed vertical line at x, labelled at the top (label may be null). */
        public Plot verticalLine(double x, String label) {
            lines.add(new ChartMarks.Line(x, true, label, REFERENCE_LINE));
            return this;
        }

        /** A dashed horizontal line at y, labelled at the right end (label may be null). */
        public Plot horizontalLine(double y, String label) {
            lines.add(new ChartMarks.Line(y, false, label, REFERENCE_LINE));
            return this;
        }

        /**
         * A band from x0 to x1, shaded or not, labelled at its top with the first of {@code labels}
         * that fits its width (give a long label first, then shorter ones).
         */
        public Plot band(double x0, double x1, boolean shaded, String... labels) {
            bands.add(new ChartMarks.Band(x0, x1, shaded ? BAND : null, labels));
            return this;
        }

        /** True when at least one point would be drawn. */
        public boolean hasData() {
            for (Series s : series) if (!drawable(s).isEmpty()) return true;
            return false;
        }

        /** The points to draw as {x, y, error bar} (error 0 where the series has none). */
        private List<double[]> drawable(Series s) {
            List<Double> err = errorBars.get(s.name());
            List<double[]> pts = new ArrayList<>();
            for (int i = 0; i < s.x().size(); i++) {
                Double x = s.x().get(i), y = s.y().get(i);
                if (x == null || y == null || !Double.isFinite(x) || !Double.isFinite(y) || (logY && y <= 0)) continue;
                double e = err == null || i >= err.size() || err.get(i) == null || !Double.isFinite(err.get(i)) ? 0 : err.get(i);
                pts.add(new double[] {x, y, e});
            }
            return pts;
        }

        public byte[] png() throws IOException {
            if (!hasData()) throw new IllegalArgumentException("chart '" + title + "' has no points to draw");
            int named = 0, nameChars = 0;
            for (Series s : series) {
                named++;
                nameChars += s.name().length() + 4;
            }
            boolean legendRight = named > 6 || nameChars > 90;   // a horizontal legend would run off the chart
            XYChart chart = new XYChartBuilder().width(legendRight ? width + 140 : width).height(height)
                    .title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
            var st = chart.getStyler();
            st.setLegendPosition(legendRight ? Styler.LegendPosition.OutsideE : Styler.LegendPosition.OutsideS);
            st.setLegendLayout(legendRight ? Styler.LegendLayout.Vertical : Styler.LegendLayout.Horizontal);
            st.setLegendBorderColor(Color.WHITE);
            st.setChartBackgroundColor(Color.WHITE);
            st.setPlotBackgroundColor(Color.WHITE);
            st.setPlotGridLinesColor(new Color(0xe6e6e6));
            st.setPlotBorderVisible(false);
            st.setAxisTickLabelsColor(new Color(0x333333));
            st.setMarkerSize(5);
            st.setYAxisLogarithmic(logY);
            if (yMin != null) st.setYAxisMin(yMin);
            if (yMax != null) st.setYAxisMax(yMax);
            st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            st.setChartTitleBoxVisible(false);
            st.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            st.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            int auto = 0;
            double minX = Double.POSITIVE_INFINITY, maxX = Double.NEGATIVE_INFINITY, firstY = Double.NaN;
            java.util.Set<String> names = new java.util.HashSet<>();
            for (Series s : series) {
                List<double[]> pts = drawable(s);
                if (pts.isEmpty()) continue;
                double[] xs = new double[pts.size()], ys = new double[pts.size()];
                for (int i = 0; i < xs.length; i++) {
                    xs[i] = pts.get(i)[0];
                    ys[i] = pts.get(i)[1];
                    if (Double.isNaN(firstY)) firstY = ys[i];
                    minX = Math.min(minX, xs[i]);
                    maxX = Math.max(maxX, xs[i]);
                }
                Color c = color(s.color() >= 0 ? s.color() : auto++);
                String name = s.name();
                for (int k = 2; !names.add(name); k++) name = s.name() + " (" + k + ")";   // XChart needs unique names
                double[] es = new double[pts.size()];
                for (int i = 0; i < es.length; i++) es[i] = pts.get(i)[2];
                XYSeries xy = errorBars.containsKey(s.name()) ? chart.addSeries(name, xs, ys, es) : chart.addSeries(name, xs, ys);
                xy.setLineColor(c);
                xy.setMarkerColor(c);
                xy.setMarker(xs.length > 60 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
                xy.setLineStyle(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            }
            if (!errorBars.isEmpty()) st.setErrorBarsColorSeriesColor(true);
            if (!logY) st.setYAxisDecimalPattern("#,##0.####");   // XChart prints every digit on short ranges
            if (maxX - minX > 30) roundXTicks(chart, minX, firstY);
            bands.forEach(chart::addAnnotation);
            lines.forEach(chart::addAnnotation);
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    /**
     * On equally spaced x values (epochs 1…240) XChart labels every k-th value (1, 9, 17, …); one
     * invisible point half a step before the first breaks the spacing, so it picks round ticks
     * (0, 50, 100, …) as on any numeric axis.
     */
    private static void roundXTicks(XYChart chart, double minX, double y) {
        XYSeries hidden = chart.addSeries(" ", new double[] {Math.max(0, minX - 0.5)}, new double[] {y});
        hidden.setMarker(SeriesMarkers.NONE);
        hidden.setLineColor(new Color(0, 0, 0, 0));
        hidden.setShowInLegend(false);
    }

    /** The series of one metric over epochs, from JSONL records (records without it are skipped). */
    public static Series metric(String name, List<Map<String, Object>> records, String key) {
        Map<Double, Double> points = new LinkedHashMap<>();
        for (Map<String, Object> r : records) {
            if (r.get(key) instanceof Number v && r.get("epoch") instanceof Number e) points.put(e.doubleValue(), v.doubleValue());
        }
        return new Series(name, List.copyOf(points.keySet()), List.copyOf(points.values()));
    }

    public static void write(Path file, byte[] png) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.write(file, png);
    }
}

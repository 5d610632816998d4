package org.stablekd.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Line charts rendered to PNG (headless AWT through XChart). */
public final class Charts {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
        new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0x7f7f7f)};

    private Charts() {}

    /** One named series of (x, y) points. */
    public record Series(String name, List<Double> x, List<Double> y) {}

    /** A line chart; {@code logY} for losses and noise ratios spanning decades. */
    public static byte[] line(String title, String xLabel, String yLabel, List<Series> series, boolean logY) throws IOException {
        XYChart chart = new XYChartBuilder().width(820).height(460).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        var st = chart.getStyler();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setPlotGridLinesColor(new Color(0xe0e0e0));
        chart.getStyler().setMarkerSize(4);
        chart.getStyler().setYAxisLogarithmic(logY);
        st.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        st.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        st.setPlotBorderVisible(false);
        int i = 0;
        for (Series s : series) {
            if (s.x().isEmpty()) continue;
            XYSeries xs = chart.addSeries(s.name(), s.x(), s.y());
            xs.setLineColor(PALETTE[i % PALETTE.length]);
            xs.setMarkerColor(PALETTE[i % PALETTE.length]);
            xs.setMarker(s.x().size() > 60 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
            xs.setLineStyle(new BasicStroke(2f));
            i++;
        }
        return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
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

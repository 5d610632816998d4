package org.stablekd.report;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The across-seeds part of a report (issue 13): a mean ± std table per method, the test top-1
 * band chart, and the IBOE gradient SNR per block averaged over seeds, one chart per method on one
 * y range so KD and StableKD read side by side.
 */
final class SeedReport {
    private SeedReport() {}

    static List<SeedSummary> summarize(Map<String, List<RunMetrics>> groups, double target) {
        List<SeedSummary> out = new ArrayList<>();
        groups.forEach((label, runs) -> {
            SeedSummary s = SeedSummary.of(label, runs, target);
            if (!s.seeds().isEmpty()) out.add(s);
        });
        return out;
    }

    static List<HtmlReport.Figure> figures(String base, List<SeedSummary> rows, HtmlReport.Options o) throws IOException {
        List<HtmlReport.Figure> out = new ArrayList<>();
        if (rows.isEmpty()) return out;
        Charts.Plot p = Charts.plot("Test top-1, mean ± std over seeds", "epoch", "top-1 (%)");
        for (int i = 0; i < rows.size(); i++) {
            Charts.Series s = rows.get(i).band(i);
            p.series(List.of(s)).errorBars(s.name(), rows.get(i).bandErrors());
        }
        if (o.hasTarget()) p.horizontalLine(o.targetTop1(), String.format(Locale.ROOT, "target %.2f %%", o.targetTop1()));
        if (p.hasData()) {
            out.add(new HtmlReport.Figure("Test top-1 across seeds", base + "-top1-seeds.png", p.png(),
                    "Mean test top-1 after each epoch over the finished seeds; bars: ± one standard deviation."));
        }
        out.addAll(snrFigures(base, rows));
        return out;
    }

    /** Per method with an IBOE log: each block's gradient SNR averaged over seeds, all on one log y range. */
    private static List<HtmlReport.Figure> snrFigures(String base, List<SeedSummary> rows) throws IOException {
        List<String> blocks = new ArrayList<>();
        Map<String, List<Charts.Series>> perLabel = new LinkedHashMap<>();
        Map<String, RunMetrics> firstSeed = new LinkedHashMap<>();   // its stages shade the chart (every seed has the same)
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (SeedSummary r : rows) {
            List<Charts.Series> series = new ArrayList<>();
            List<String> own = r.seeds().get(0).iboeBlocks("snr");
            for (String b : own) {
                if (!blocks.contains(b)) blocks.add(b);
                Charts.Series mean = meanOverSeeds(r.seeds(), "iboe_snr_" + b, b);
                for (double y : mean.y()) {
                    if (y > 0) {
                        min = Math.min(min, y);
                        max = Math.max(max, y);
                    }
                }
                series.add(mean);
            }
            if (!series.isEmpty()) {
                perLabel.put(r.label(), series);
                firstSeed.put(r.label(), r.seeds().get(0));
            }
        }
        blocks.sort(RunMetrics.NATURAL);
        List<HtmlReport.Figure> out = new ArrayList<>();
        java.util.Set<String> taken = new java.util.HashSet<>();
        for (var e : perLabel.entrySet()) {
            List<Charts.Series> coloured = e.getValue().stream().map(s -> s.withColor(blocks.indexOf(s.name()))).toList();
            Charts.Plot p = Charts.plot(e.getKey() + ": gradient SNR per block, mean over seeds", "epoch", "‖E[g]‖² / E‖g − E[g]‖²")
                    .series(coloured).logY(true);
            if (max > min) p.yRange(min / 1.5, max * 1.5);
            HtmlReport.ReportCharts.markStages(p, firstSeed.get(e.getKey()));
            if (p.hasData()) {
                out.add(new HtmlReport.Figure(e.getKey() + ": gradient SNR over seeds", base + "-snr-seeds-" + HtmlReport.slug(e.getKey(), taken) + ".png",
                        p.png(), e.getKey() + ": per-block gradient SNR averaged over seeds (all methods share the y range)."));
            }
        }
        return out;
    }

    /** {@code key} per epoch averaged over the runs that logged it at that epoch. */
    static Charts.Series meanOverSeeds(List<RunMetrics> runs, String key, String name) {
        Map<Double, double[]> sums = new java.util.TreeMap<>();
        for (RunMetrics r : runs) {
            Charts.Series s = r.series(key, name);
            for (int i = 0; i < s.x().size(); i++) {
                double[] acc = sums.computeIfAbsent(s.x().get(i), k -> new double[2]);
                acc[0] += s.y().get(i);
                acc[1]++;
            }
        }
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        sums.forEach((e, acc) -> {
            x.add(e);
            y.add(acc[0] / acc[1]);
        });
        return new Charts.Series(name, x, y);
    }

    /** The table as Markdown, for docs/results. */
    static String markdown(List<SeedSummary> rows, HtmlReport.Options o) {
        boolean val = rows.stream().anyMatch(r -> r.bestVal().n() > 0);
        StringBuilder b = new StringBuilder();
        b.append("| method | seeds | last test top-1 |").append(val ? " test top-1 at best val | best val top-1 |" : "")
                .append(o.hasTarget() ? String.format(Locale.ROOT, " epochs to %.2f %% (per seed) |", o.targetTop1()) : "").append(" wall per run |\n");
        b.append("|---|---:|---:|").append(val ? "---:|---:|" : "").append(o.hasTarget() ? "---:|" : "").append("---:|\n");
        for (SeedSummary r : rows) {
            b.append("| ").append(r.label()).append(" | ").append(r.seeds().size()).append(" | ").append(r.last().percent()).append(" |");
            if (val) b.append(' ').append(r.atBestVal().percent()).append(" | ").append(r.bestVal().percent()).append(" |");
            if (o.hasTarget()) b.append(' ').append(r.epochsToTargetText()).append(" |");
            b.append(' ').append(Format.duration(r.wallSeconds().mean())).append(" |\n");
        }
        return b.toString();
    }
}

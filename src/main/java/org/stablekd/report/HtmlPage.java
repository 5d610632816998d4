package org.stablekd.report;

import static org.stablekd.report.Format.html;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.stablekd.io.Safetensors;

/** The HTML of a report, section by section: escaped text, inline CSS, no external resources. */
final class HtmlPage {
    private static final String CSS = """
            body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1040px; padding: 0 1.2em; line-height: 1.45; }
            h1 { font-size: 1.6em; margin-bottom: 0.2em; }
            h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
            .sub { color: #666; margin-top: 0; }
            table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.95em; }
            th, td { padding: 0.35em 0.8em; border-bottom: 1px solid #e4e4e4; text-align: left; vertical-align: top; }
            th { background: #f6f6f6; font-weight: 600; }
            td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            td.top { font-weight: 700; }
            figure { margin: 1.2em 0; }
            figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
            figcaption { color: #555; font-size: 0.9em; }
            pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.88em; }
            details { margin: 0.6em 0; }
            summary { cursor: pointer; font-weight: 600; }
            .note { color: #555; font-size: 0.9em; }
            .problems li { color: #8a4b00; }
            code { font-size: 0.92em; }
            """;

    private final StringBuilder b = new StringBuilder(1 << 16);

    HtmlPage(String title) {
        b.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(html(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n")
                .append("<h1>").append(html(title)).append("</h1>\n");
    }

    void intro(int runs, HtmlReport.Options o) {
        b.append("<p class=\"sub\">").append(runs == 1 ? "1 run" : runs + " runs")
                .append(o.hasTarget() ? String.format(Locale.ROOT, " · target test top-1 %.2f %%", o.targetTop1()) : "").append("</p>\n");
        if (o.notes() != null && !o.notes().isBlank()) {
            for (String para : o.notes().strip().split("\\R\\s*\\R")) b.append("<p>").append(html(para.strip())).append("</p>\n");
        }
        if (o.commands() != null && !o.commands().isBlank()) {
            b.append("<h2>Commands</h2>\n<pre>").append(html(o.commands().strip())).append("</pre>\n");
        }
    }

    void summaryTable(List<RunSummary> rows, HtmlReport.Options o) {
        double bestLast = rows.stream().mapToDouble(RunSummary::lastTop1).filter(Double::isFinite).max().orElse(Double.NaN);
        int fastest = rows.stream().mapToInt(RunSummary::epochsToTarget).filter(e -> e >= 0).min().orElse(-1);
        boolean tStddev = rows.stream().anyMatch(r -> Double.isFinite(r.teacherStddev()));
        b.append("<h2>Summary</h2>\n<table>\n<tr><th>run</th><th>method</th><th class=\"num\">epochs</th>")
                .append("<th class=\"num\">last test top-1</th><th class=\"num\">best test top-1 (epoch)</th>");
        if (o.hasTarget()) b.append(String.format(Locale.ROOT, "<th class=\"num\">epochs to %.2f %%</th>", o.targetTop1()));
        b.append("<th class=\"num\">wall time</th><th class=\"num\">train images/s</th>");
        if (tStddev) b.append("<th class=\"num\">T. stddev</th>");
        b.append("</tr>\n");
        for (RunSummary r : rows) {
            b.append("<tr><td>").append(html(r.label())).append("</td><td>").append(html(r.method() == null ? Format.NONE : r.method())).append("</td>");
            num(Format.count(r.epochs() == 0 ? -1 : r.epochs()), false);
            num(Format.percent(r.lastTop1()), rows.size() > 1 && r.lastTop1() == bestLast);
            num(r.bestEpoch() < 0 ? Format.NONE : Format.percent(r.bestTop1()) + " (" + r.bestEpoch() + ")", false);
            if (o.hasTarget()) num(Format.count(r.epochsToTarget()), rows.size() > 1 && r.epochsToTarget() >= 0 && r.epochsToTarget() == fastest);
            num(Format.duration(r.wallSeconds()), false);
            num(Format.rate(r.imagesPerSecond()), false);
            if (tStddev) num(Double.isFinite(r.teacherStddev()) ? String.format(Locale.ROOT, "%.5f", r.teacherStddev()) : Format.NONE, false);
            b.append("</tr>\n");
        }
        b.append("</table>\n<p class=\"note\">Last: the final epoch's test top-1, the number to report. Best: the highest test top-1 over all epochs, with its epoch")
                .append(o.hasTarget() ? "; epochs to target: the first epoch whose test top-1 reached it" : "")
                .append(". Wall time adds up the sessions of a resumed run. Train images/s: the median over epochs of training throughput")
                .append(tStddev ? ". T. stddev: the stddev of the teacher's mean probability under the run's augmentation, last logged value"
                        + " (Wang et al., NeurIPS 2022; lower predicts a lower student test loss)" : "")
                .append(rows.size() > 1 ? "; bold marks the best of a column" : "").append(".</p>\n");
    }

    /** The across-seeds table: mean ± sample std per method (see {@link SeedSummary}). */
    void seedTable(List<SeedSummary> rows, HtmlReport.Options o) {
        if (rows.isEmpty()) return;
        boolean val = rows.stream().anyMatch(r -> r.bestVal().n() > 0);
        double bestLast = rows.stream().mapToDouble(r -> r.last().mean()).filter(Double::isFinite).max().orElse(Double.NaN);
        b.append("<h2>Across seeds</h2>\n<table>\n<tr><th>method</th><th class=\"num\">seeds</th><th class=\"num\">last test top-1</th>");
        if (val) b.append("<th class=\"num\">test top-1 at best validation</th><th class=\"num\">best validation top-1</th>");
        if (o.hasTarget()) b.append(String.format(Locale.ROOT, "<th class=\"num\">epochs to %.2f %% (per seed)</th>", o.targetTop1()));
        b.append("<th class=\"num\">wall per run</th></tr>\n");
        for (SeedSummary r : rows) {
            b.append("<tr><td>").append(html(r.label())).append("</td>");
            num(Integer.toString(r.seeds().size()), false);
            num(r.last().percent(), rows.size() > 1 && r.last().mean() == bestLast);
            if (val) {
                num(r.atBestVal().percent(), false);
                num(r.bestVal().percent(), false);
            }
            if (o.hasTarget()) num(r.epochsToTargetText(), false);
            num(Format.duration(r.wallSeconds().mean()), false);
            b.append("</tr>\n");
        }
        b.append("</table>\n<p class=\"note\">Mean ± sample standard deviation over the seeds whose runs finished. ")
                .append(val ? "Test top-1 at best validation: the test accuracy of the epoch with the highest validation top-1 (a choice that never looks at the test set). " : "")
                .append("The per-run sections below show the first seed only.</p>\n");
    }

    private void num(String text, boolean top) {
        b.append("<td class=\"num").append(top ? " top" : "").append("\">").append(html(text)).append("</td>");
    }

    void figures(String heading, String intro, List<HtmlReport.Figure> figures) {
        if (figures.isEmpty()) return;
        b.append("<h2>").append(html(heading)).append("</h2>\n");
        if (intro != null) b.append("<p class=\"note\">").append(html(intro)).append("</p>\n");
        for (HtmlReport.Figure f : figures) {
            b.append("<figure>\n<img src=\"").append(HtmlReport.dataUri(f.png())).append("\" alt=\"").append(html(f.title())).append("\">\n")
                    .append("<figcaption>").append(html(f.caption())).append(" <a href=\"").append(html(f.fileName())).append("\">PNG</a></figcaption>\n</figure>\n");
        }
    }

    /** Per run: its folder and files, the metadata saved with its weights, and its stages. */
    void runDetails(List<RunMetrics> runs, List<String> problems) {
        b.append("<h2>Runs</h2>\n");
        for (RunMetrics r : runs) {
            Path dir = r.ref().dir();
            b.append("<details>\n<summary>").append(html(r.label())).append("</summary>\n")
                    .append("<p>Folder <code>").append(html(dir.toAbsolutePath().normalize().toString())).append("</code>, ")
                    .append(r.records().size()).append(r.records().size() == 1 ? " epoch record" : " epoch records").append(".</p>\n");
            files(dir, problems);
            metadata(r, problems);
            stages(r);
            b.append("</details>\n");
        }
    }

    private void files(Path dir, List<String> problems) {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(Files::isRegularFile).sorted().toList();
            b.append("<table>\n<tr><th>file</th><th class=\"num\">size</th></tr>\n");
            for (Path f : files) {
                b.append("<tr><td><code>").append(html(f.getFileName().toString())).append("</code></td>");
                num(Format.bytes(Files.size(f)), false);
                b.append("</tr>\n");
            }
            b.append("</table>\n");
        } catch (IOException e) {
            problems.add("could not list " + dir + ": " + e.getMessage());
        }
    }

    private void metadata(RunMetrics r, List<String> problems) {
        Path weights = r.ref().dir().resolve("weights.safetensors");
        if (!Files.isRegularFile(weights)) return;
        Map<String, String> md;
        try {
            md = Safetensors.metadata(weights);
        } catch (IOException | RuntimeException e) {
            problems.add("run '" + r.label() + "': could not read the metadata of " + weights + ": " + e.getMessage());
            return;
        }
        if (md.isEmpty()) return;
        b.append("<table>\n<tr><th colspan=\"2\">saved with the weights</th></tr>\n");
        md.forEach((k, v) -> b.append("<tr><td>").append(html(k)).append("</td><td><code>").append(html(v)).append("</code></td></tr>\n"));
        b.append("</table>\n");
    }

    private void stages(RunMetrics r) {
        List<RunMetrics.Stage> stages = r.stages();
        if (stages.isEmpty()) return;
        b.append("<table>\n<tr><th class=\"num\">stage</th><th class=\"num\">epochs</th><th>groups</th></tr>\n");
        for (RunMetrics.Stage s : stages) {
            b.append("<tr>");
            num(Integer.toString(s.number()), false);
            num(s.firstEpoch() == s.lastEpoch() ? Integer.toString(s.firstEpoch()) : s.firstEpoch() + "–" + s.lastEpoch(), false);
            b.append("<td>").append(html(s.groups() == null ? Format.NONE : s.groups())).append("</td></tr>\n");
        }
        b.append("</table>\n");
    }

    void problems(List<String> problems) {
        if (problems.isEmpty()) return;
        b.append("<h2>Problems reading the runs</h2>\n<ul class=\"problems\">\n");
        for (String p : problems) b.append("<li>").append(html(p)).append("</li>\n");
        b.append("</ul>\n");
    }

    String finish() {
        return b.append("<p class=\"note\">Made by <code>stablekd</code>; every chart is also saved as a PNG beside this page.</p>\n</body>\n</html>\n").toString();
    }
}

package org.stablekd.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A report of one run or a comparison of several: one self-contained HTML page (inline CSS, the
 * charts embedded as PNG data URIs, nothing fetched) and the same charts as PNG files beside it,
 * for documents to link.
 *
 * <p>From each run folder's {@code metrics.jsonl}: test top-1 over epochs (all runs on one chart,
 * the target as a dashed line); training loss over epochs; for runs that log several loss terms,
 * each term over epochs with StableKD's stages shaded (from the {@code stage} key); when the run
 * logs the IBOE diagnostic ({@code iboe_snr_<block>}, {@code iboe_cos_<block>}), the gradient SNR
 * (log scale) and the cosine of consecutive gradients per block, on one y range for all runs; a
 * summary table (see {@link RunSummary}); and per run, its files, the metadata saved with its
 * weights and its stages. Keys a run does not log are simply left out.
 *
 * <pre>
 *   HtmlReport.write(Path.of("docs/kd-vs-stablekd.html"), "resnet56 → resnet20",
 *           List.of(new RunRef("KD", kdDir), new RunRef("StableKD", skdDir)),
 *           HtmlReport.Options.defaults().withTarget(70));
 *   // writes docs/kd-vs-stablekd.html and docs/kd-vs-stablekd-top1.png, -train-loss.png, …
 * </pre>
 */
public final class HtmlReport {
    private HtmlReport() {}

    /**
     * @param targetTop1 a test top-1 (%) for the "epochs to reach" column; NaN for none (no column)
     * @param notes      free text shown under the title (blank lines separate paragraphs); may be null
     * @param commands   the commands that produced the runs, shown verbatim; may be null
     */
    public record Options(double targetTop1, String notes, String commands) {
        public static Options defaults() {
            return new Options(Double.NaN, null, null);
        }

        public Options withTarget(double top1) {
            return new Options(top1, notes, commands);
        }

        public Options withNotes(String text) {
            return new Options(targetTop1, text, commands);
        }

        public Options withCommands(String text) {
            return new Options(targetTop1, notes, text);
        }

        boolean hasTarget() {
            return Double.isFinite(targetTop1);
        }
    }

    /** What was written, and what could not be read (also listed in the page). */
    public record Result(Path html, List<Path> charts, List<String> problems) {}

    /** One chart: its PNG, the file it is saved as, and its caption. */
    record Figure(String title, String fileName, byte[] png, String caption) {}

    /**
     * Writes the page to {@code out} and its charts beside it as {@code <name>-<chart>.png}.
     *
     * @throws IllegalArgumentException when no run is given or a folder has no metrics.jsonl
     */
    public static Result write(Path out, String title, List<RunRef> runs, Options options) throws IOException {
        return write(out, title, runs, Map.of(), options);
    }

    /**
     * As above, with runs grouped by method over seeds ({@code seedGroups}: label → one run per
     * seed, may be empty): adds the across-seeds table and charts, and {@code <name>-seeds.md}
     * with the table in Markdown; {@code runs} then holds the runs shown one by one.
     */
    public static Result write(Path out, String title, List<RunRef> runs, Map<String, List<RunRef>> seedGroups, Options options) throws IOException {
        if (runs == null || runs.isEmpty()) throw new IllegalArgumentException("a report needs at least one run");
        Options o = options == null ? Options.defaults() : options;
        List<RunMetrics> metrics = new ArrayList<>();
        for (RunRef r : runs) metrics.add(RunMetrics.load(r));
        List<String> problems = new ArrayList<>();
        for (RunMetrics m : metrics) {
            problems.addAll(m.problems());
            if (m.isEmpty()) problems.add("run '" + m.label() + "' has no epochs recorded yet (" + m.ref().dir() + ")");
        }

        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        String base = baseName(out);
        ReportCharts charts = new ReportCharts(base, metrics, o);
        List<Figure> overview = charts.overview();
        List<Figure> terms = charts.lossTerms();
        List<Figure> noise = charts.gradientNoise();
        Map<String, List<RunMetrics>> grouped = new java.util.LinkedHashMap<>();
        for (var g : seedGroups.entrySet()) {
            List<RunMetrics> ms = new ArrayList<>();
            for (RunRef r : g.getValue()) {
                RunMetrics m = RunMetrics.load(r);
                problems.addAll(m.problems());
                if (!m.isEmpty()) ms.add(m);
            }
            grouped.put(g.getKey(), ms);
        }
        List<SeedSummary> seedRows = SeedReport.summarize(grouped, o.targetTop1());
        List<Figure> seeds = SeedReport.figures(base, seedRows, o);
        List<Path> written = new ArrayList<>();
        if (!seedRows.isEmpty()) {
            Path md = dir.resolve(base + "-seeds.md");
            Files.writeString(md, SeedReport.markdown(seedRows, o), StandardCharsets.UTF_8);
            written.add(md);
        }
        for (List<Figure> group : List.of(seeds, overview, terms, noise)) {
            for (Figure f : group) {
                Path file = dir.resolve(f.fileName());
                Charts.write(file, f.png());
                written.add(file);
            }
        }

        List<RunSummary> summaries = metrics.stream().map(m -> RunSummary.of(m, o.targetTop1())).toList();
        HtmlPage page = new HtmlPage(title);
        page.intro(runs.size(), o);
        page.seedTable(seedRows, o);
        page.figures("Across seeds: accuracy and gradient noise", null, seeds);
        page.summaryTable(summaries, o);
        page.figures("Accuracy and loss", null, overview);
        page.figures("Loss terms", "Each weighted term of the training loss, averaged over the epoch. "
                + "StableKD's stages are shaded alternately and named at the top; a term exists only in the stage that trains its group.", terms);
        page.figures("Gradient noise per block (IBOE)", "Inter-block optimization entanglement, measured per student block: "
                + "the gradient signal-to-noise ratio ‖E[g]‖² / E‖g − E[g]‖² over a window of steps (higher is a cleaner gradient; log scale) "
                + "and the cosine between consecutive steps' gradients. All runs share each metric's y range.", noise);
        page.runDetails(metrics, problems);
        page.problems(problems);
        Files.writeString(out, page.finish(), StandardCharsets.UTF_8);
        return new Result(out, List.copyOf(written), List.copyOf(problems));
    }

    /** The file name without its extension: "report" for report.html. */
    static String baseName(Path out) {
        String name = out.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** A file-name-safe form of a label; made unique within {@code taken}. */
    static String slug(String label, Set<String> taken) {
        String s = label.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        if (s.isEmpty()) s = "run";
        String unique = s;
        for (int i = 2; !taken.add(unique); i++) unique = s + "-" + i;
        return unique;
    }

    /** The PNG as a data URI for an img src. */
    static String dataUri(byte[] png) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(png);
    }

    /** Builds the charts of a report (the figures of each section). */
    static final class ReportCharts {
        private final String base;
        private final List<RunMetrics> runs;
        private final Options o;
        private final List<String> slugs = new ArrayList<>();

        ReportCharts(String base, List<RunMetrics> runs, Options o) {
            this.base = base;
            this.runs = runs;
            this.o = o;
            Set<String> taken = new HashSet<>();
            for (RunMetrics r : runs) slugs.add(slug(r.label(), taken));
        }

        List<Figure> overview() throws IOException {
            List<Figure> out = new ArrayList<>();
            Charts.Plot top1 = Charts.plot("Test top-1 accuracy", "epoch", "top-1 (%)").series(perRun("test_top1"));
            if (o.hasTarget()) top1.horizontalLine(o.targetTop1(), String.format(Locale.ROOT, "target %.2f %%", o.targetTop1()));
            if (top1.hasData()) {
                out.add(new Figure("Test top-1 accuracy", base + "-top1.png", top1.png(),
                        "Top-1 on the test set after each epoch." + (o.hasTarget() ? " Dashed: the target." : "")));
            }
            List<Charts.Series> loss = perRun("train_loss");
            Charts.Plot lossPlot = Charts.plot("Training loss", "epoch", "loss (sum of weighted terms)").series(loss).logY(spansDecades(loss));
            if (lossPlot.hasData()) {
                out.add(new Figure("Training loss", base + "-train-loss.png", lossPlot.png(),
                        "The training objective averaged over each epoch (for StableKD, the sum over the groups trained in that stage)."));
            }
            return out;
        }

        /** One series per run for {@code key}, coloured by run. */
        private List<Charts.Series> perRun(String key) {
            List<Charts.Series> s = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) s.add(runs.get(i).series(key, runs.get(i).label()).withColor(i));
            return s;
        }

        List<Figure> lossTerms() throws IOException {
            List<Figure> out = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                RunMetrics r = runs.get(i);
                List<String> terms = r.lossTerms();
                if (terms.size() < 2) continue;
                List<Charts.Series> series = new ArrayList<>();
                for (int t = 0; t < terms.size(); t++) series.add(r.series("train_" + terms.get(t), terms.get(t)).withColor(t));
                Charts.Plot p = Charts.plot(r.label() + ": loss terms", "epoch", "loss term (weighted)").series(series).logY(spansDecades(series));
                markStages(p, r);
                if (p.hasData()) {
                    out.add(new Figure(r.label() + ": loss terms", base + "-terms-" + slugs.get(i) + ".png", p.png(),
                            r.label() + ": " + terms.size() + " loss terms" + (r.stages().size() > 1 ? ", " + r.stages().size() + " stages" : "") + "."));
                }
            }
            return out;
        }

        List<Figure> gradientNoise() throws IOException {
            List<Figure> out = new ArrayList<>();
            out.addAll(noiseMetric("snr", "gradient SNR per block", "‖E[g]‖² / E‖g − E[g]‖²", true));
            out.addAll(noiseMetric("cos", "cosine of consecutive gradients", "cos(g_t, g_t−1)", false));
            return out;
        }

        private List<Figure> noiseMetric(String metric, String what, String yLabel, boolean log) throws IOException {
            // one colour per block across all runs, one y range for all runs
            List<String> blocks = new ArrayList<>();
            for (RunMetrics r : runs) for (String b : r.iboeBlocks(metric)) if (!blocks.contains(b)) blocks.add(b);
            blocks.sort(RunMetrics.NATURAL);
            if (blocks.isEmpty()) return List.of();
            double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
            List<List<Charts.Series>> perRun = new ArrayList<>();
            for (RunMetrics r : runs) {
                List<Charts.Series> s = new ArrayList<>();
                for (String b : r.iboeBlocks(metric)) {
                    Charts.Series one = r.series("iboe_" + metric + "_" + b, b).withColor(blocks.indexOf(b));
                    for (double y : one.y()) {
                        if (log && y <= 0) continue;
                        min = Math.min(min, y);
                        max = Math.max(max, y);
                    }
                    s.add(one);
                }
                perRun.add(s);
            }
            List<Figure> out = new ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                if (perRun.get(i).isEmpty()) continue;
                RunMetrics r = runs.get(i);
                Charts.Plot p = Charts.plot(r.label() + ": " + what, "epoch", yLabel).series(perRun.get(i)).logY(log);
                if (log && max > min) p.yRange(min / 1.5, max * 1.5);
                if (!log && max >= min) p.yRange(Math.min(0, Math.floor(min * 10) / 10), Math.max(0.1, Math.ceil(max * 10) / 10));   // cosines: from 0 or below, in tenths
                markStages(p, r);
                if (p.hasData()) {
                    out.add(new Figure(r.label() + ": " + what, base + "-" + metric + "-" + slugs.get(i) + ".png", p.png(),
                            r.label() + ": " + what + ", blocks " + String.join(", ", r.iboeBlocks(metric)) + "."));
                }
            }
            return out;
        }

        /** Shades every other stage and labels each: "stage 2: [b1-2, b3-4]", else "stage 2", else "2". */
        static void markStages(Charts.Plot p, RunMetrics r) {
            List<RunMetrics.Stage> stages = r.stages();
            if (stages.size() < 2) return;
            for (int k = 0; k < stages.size(); k++) {
                RunMetrics.Stage s = stages.get(k);
                String groups = s.groups() == null ? null : "stage " + s.number() + ": " + s.groups();
                p.band(s.firstEpoch() - 0.5, s.lastEpoch() + 0.5, k % 2 == 0, groups, "stage " + s.number(), Integer.toString(s.number()));
            }
        }

        /** Log scale when the positive values span more than a factor of 20. */
        static boolean spansDecades(List<Charts.Series> series) {
            double min = Double.POSITIVE_INFINITY, max = 0;
            for (Charts.Series s : series) {
                for (double y : s.y()) {
                    if (y > 0 && Double.isFinite(y)) {
                        min = Math.min(min, y);
                        max = Math.max(max, y);
                    }
                }
            }
            return max > 0 && max / min > 20;
        }
    }
}

package org.stablekd.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.distill.MethodSpec;
import org.stablekd.experiment.Experiment;
import org.stablekd.report.HtmlReport;
import org.stablekd.report.RunRef;
import org.stablekd.train.MetricsLog;

/** Writes the comparison report of an experiment: OUT/report.html with its charts beside it. */
final class ReportWriter {
    private ReportWriter() {}

    /** The runs of every method that has a metrics log; target = the given one, else the KD run's last top-1. */
    static HtmlReport.Result write(Experiment e, Double target, String notes, String commands) throws IOException {
        List<RunRef> runs = new ArrayList<>();
        Map<String, List<RunRef>> groups = new LinkedHashMap<>();   // label → its seeds' runs, when the experiment lists seeds
        for (MethodSpec m : e.methods()) {
            for (long seed : e.runSeeds()) {
                Path dir = e.runDir(m.label(), seed);
                if (!Files.exists(dir.resolve("metrics.jsonl"))) continue;
                if (e.seeds() == null) {
                    runs.add(new RunRef(m.label(), dir));
                } else {
                    groups.computeIfAbsent(m.label(), k -> new ArrayList<>()).add(new RunRef(m.label() + " · seed " + seed, dir));
                }
            }
        }
        for (List<RunRef> g : groups.values()) runs.add(g.get(0));   // one run per method in the per-run sections
        if (runs.isEmpty()) throw new IllegalArgumentException("no finished runs in " + e.out() + " to report on");
        HtmlReport.Options o = HtmlReport.Options.defaults();
        Double t = target != null ? target : kdLastTop1(e);
        if (t != null) o = o.withTarget(t);
        if (notes != null) o = o.withNotes(notes);
        if (commands != null) o = o.withCommands(commands);
        HtmlReport.Result r = HtmlReport.write(e.out().resolve("report.html"), e.name(), runs, groups, o);
        System.out.println("report: " + r.html() + " (" + r.charts().size() + " charts)");
        for (String p : r.problems()) System.err.println("report: " + p);
        return r;
    }

    /** The first KD method's last test top-1, averaged over the seeds whose runs finished all epochs. */
    private static Double kdLastTop1(Experiment e) throws IOException {
        for (MethodSpec m : e.methods()) {
            if (!m.method().equals("kd")) continue;
            double sum = 0;
            int n = 0;
            for (long seed : e.runSeeds()) {
                Path f = e.runDir(m.label(), seed).resolve("metrics.jsonl");
                if (!Files.exists(f)) continue;
                var recs = MetricsLog.read(f);
                if (!recs.isEmpty() && recs.getLast().get("test_top1") instanceof Number t && recs.getLast().get("epoch") instanceof Number ep
                        && ep.intValue() == e.epochs()) {
                    sum += t.doubleValue();
                    n++;
                }
            }
            if (n > 0) return sum / n;
        }
        return null;
    }
}

package org.stablekd.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        for (MethodSpec m : e.methods()) {
            for (long seed : e.runSeeds()) {
                Path dir = e.runDir(m.label(), seed);
                String label = e.seeds() == null ? m.label() : m.label() + " · seed " + seed;
                if (Files.exists(dir.resolve("metrics.jsonl"))) runs.add(new RunRef(label, dir));
            }
        }
        if (runs.isEmpty()) throw new IllegalArgumentException("no finished runs in " + e.out() + " to report on");
        HtmlReport.Options o = HtmlReport.Options.defaults();
        Double t = target != null ? target : kdLastTop1(e);
        if (t != null) o = o.withTarget(t);
        if (notes != null) o = o.withNotes(notes);
        if (commands != null) o = o.withCommands(commands);
        HtmlReport.Result r = HtmlReport.write(e.out().resolve("report.html"), e.name(), runs, o);
        System.out.println("report: " + r.html() + " (" + r.charts().size() + " charts)");
        for (String p : r.problems()) System.err.println("report: " + p);
        return r;
    }

    private static Double kdLastTop1(Experiment e) throws IOException {
        for (MethodSpec m : e.methods()) {
            Path f = e.runDir(m.label(), e.runSeeds().get(0)).resolve("metrics.jsonl");
            if (m.method().equals("kd") && Files.exists(f)) {
                var recs = MetricsLog.read(f);
                if (!recs.isEmpty() && recs.getLast().get("test_top1") instanceof Number n) return n.doubleValue();
            }
        }
        return null;
    }
}

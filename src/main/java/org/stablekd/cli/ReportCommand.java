package org.stablekd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.stablekd.report.HtmlReport;
import org.stablekd.report.RunRef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stablekd report}: one self-contained HTML page (and PNG charts) for any run folders. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Write a self-contained HTML report with PNG charts for one or more run folders.",
                "Example: stablekd report kd=runs/x/kd stablekd=runs/x/stablekd --out docs/results/x.html --target 89"})
final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Run folders, optionally label=folder.") List<String> runs;
    @Option(names = "--out", required = true, description = "HTML file to write (charts go beside it).") Path out;
    @Option(names = "--title", defaultValue = "stablekd report") String title;
    @Option(names = "--target", description = "Accuracy (%%) for the 'epochs to reach' column.") Double target;
    @Option(names = "--notes", description = "Text shown under the title.") String notes;
    @Option(names = "--commands", description = "Commands shown in the report.") String commands;

    @Override
    public Integer call() throws Exception {
        List<RunRef> refs = new ArrayList<>();
        for (String r : runs) refs.add(RunRef.parse(r));
        HtmlReport.Options o = HtmlReport.Options.defaults();
        if (target != null) o = o.withTarget(target);
        if (notes != null) o = o.withNotes(notes);
        if (commands != null) o = o.withCommands(commands);
        HtmlReport.Result r = HtmlReport.write(out, title, refs, o);
        System.out.println("wrote " + r.html() + " and " + r.charts().size() + " charts");
        for (String p : r.problems()) System.err.println("report: " + p);
        return 0;
    }
}

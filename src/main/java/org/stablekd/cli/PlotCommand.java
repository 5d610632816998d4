package org.stablekd.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.stablekd.report.Charts;
import org.stablekd.train.MetricsLog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code stablekd plot}: a metric over epochs for one or more run folders, as a PNG. */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Plot a metric of metrics.jsonl over epochs for one or more run folders (PNG).")
final class PlotCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Run folders (each with metrics.jsonl); label=folder to rename a series.")
    List<String> runs;

    @Option(names = "--metric", defaultValue = "test_top1", description = "Key to plot (default ${DEFAULT-VALUE}; e.g. train_loss, test_loss).")
    String metric;

    @Option(names = "--title", description = "Chart title.") String title;
    @Option(names = "--out", required = true, description = "PNG file to write.") Path out;
    @Option(names = "--log", description = "Logarithmic y axis.") boolean log;

    @Override
    public Integer call() throws Exception {
        List<Charts.Series> series = new ArrayList<>();
        for (String r : runs) {
            String label = r;
            String dir = r;
            int eq = r.indexOf('=');
            if (eq > 0) {
                label = r.substring(0, eq);
                dir = r.substring(eq + 1);
            }
            Path file = Path.of(dir).resolve("metrics.jsonl");
            if (!Files.exists(file)) throw new IllegalArgumentException(dir + " has no metrics.jsonl (is it a run folder?)");
            Charts.Series s = Charts.metric(label, MetricsLog.read(file), metric);
            if (s.x().isEmpty()) throw new IllegalArgumentException(file + " has no '" + metric + "' values");
            series.add(s);
        }
        Charts.write(out, Charts.line(title != null ? title : metric + " per epoch", "epoch", metric, series, log));
        System.out.println("wrote " + out);
        return 0;
    }
}

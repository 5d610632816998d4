package org.stablekd.cli;

import org.stablekd.distill.Experiment;

/** Writes the comparison report of an experiment (filled in when the HTML report lands). */
final class ReportWriter {
    private ReportWriter() {}

    static void write(Experiment e, Double target) {
        System.out.println("runs are in " + e.out() + " (plot them with: stablekd plot " + e.out() + "/* --out chart.png)");
    }
}

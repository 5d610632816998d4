package org.stablekd.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One method over several seeds: the mean ± sample standard deviation of the numbers a study
 * reports, and the per-epoch test top-1 band. A seed counts only once its run has all the epochs
 * of the longest run of the group (a study still running reports its finished seeds).
 *
 * @param label          the method's label
 * @param seeds          the finished seeds' runs
 * @param last           test top-1 (%) of the last epoch
 * @param atBestVal      test top-1 (%) at the epoch of the highest validation top-1 (the honest "best"; NaN without validation)
 * @param bestVal        the highest validation top-1 (%) (what variants are chosen by; NaN without validation)
 * @param epochsToTarget per seed, the first epoch whose test top-1 reached the target (−1: not within the run)
 * @param wallSeconds    wall time per run
 * @param epochMean      mean test top-1 after each epoch (index 0 = epoch 1)
 * @param epochStd       its sample standard deviation (0 with one seed)
 */
public record SeedSummary(String label, String method, List<RunMetrics> seeds, Stat last, Stat atBestVal, Stat bestVal,
                          List<Integer> epochsToTarget, Stat wallSeconds, double[] epochMean, double[] epochStd) {

    /** Mean and sample standard deviation (n − 1) of n values; NaN when there are none. */
    public record Stat(double mean, double std, int n) {
        public static Stat of(List<Double> values) {
            List<Double> v = values.stream().filter(Double::isFinite).toList();
            if (v.isEmpty()) return new Stat(Double.NaN, Double.NaN, 0);
            double mean = v.stream().mapToDouble(Double::doubleValue).sum() / v.size();
            double ss = 0;
            for (double x : v) ss += (x - mean) * (x - mean);
            return new Stat(mean, v.size() > 1 ? Math.sqrt(ss / (v.size() - 1)) : 0, v.size());
        }

        /** "91.23 ± 0.15 %" (one seed: "91.23 %"), a dash for none. */
        public String percent() {
            if (n == 0) return Format.NONE;
            return n == 1 ? String.format(Locale.ROOT, "%.2f %%", mean) : String.format(Locale.ROOT, "%.2f ± %.2f %%", mean, std);
        }
    }

    /** Summarises the runs of one label; {@code target} in % top-1 (NaN for none). */
    public static SeedSummary of(String label, List<RunMetrics> runs, double target) {
        List<RunSummary> sums = runs.stream().map(r -> RunSummary.of(r, target)).toList();
        int epochs = sums.stream().mapToInt(RunSummary::epochs).max().orElse(0);
        List<RunMetrics> done = new ArrayList<>();
        List<RunSummary> doneSums = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            if (epochs > 0 && sums.get(i).epochs() == epochs) {
                done.add(runs.get(i));
                doneSums.add(sums.get(i));
            }
        }
        List<Double> last = new ArrayList<>(), atVal = new ArrayList<>(), bestVal = new ArrayList<>(), wall = new ArrayList<>();
        List<Integer> reach = new ArrayList<>();
        double[][] perEpoch = new double[epochs][done.size()];
        String method = null;
        for (int s = 0; s < done.size(); s++) {
            RunMetrics r = done.get(s);
            RunSummary sum = doneSums.get(s);
            method = sum.method();
            last.add(sum.lastTop1());
            reach.add(sum.epochsToTarget());
            wall.add(sum.wallSeconds());
            double bv = Double.NEGATIVE_INFINITY, testAtBv = Double.NaN;
            for (double[] col : perEpoch) col[s] = Double.NaN;
            for (Map<String, Object> rec : r.records()) {
                double e = RunMetrics.epoch(rec), top1 = RunMetrics.number(rec, "test_top1"), val = RunMetrics.number(rec, "val_top1");
                if (Double.isFinite(e) && e >= 1 && e <= epochs) perEpoch[(int) e - 1][s] = top1;
                if (Double.isFinite(val) && val > bv) {
                    bv = val;
                    testAtBv = top1;
                }
            }
            if (Double.isFinite(bv)) {
                bestVal.add(bv);
                atVal.add(testAtBv);
            }
        }
        double[] mean = new double[epochs], std = new double[epochs];
        for (int e = 0; e < epochs; e++) {
            List<Double> col = new ArrayList<>();
            for (double v : perEpoch[e]) col.add(v);
            Stat st = Stat.of(col);
            mean[e] = st.n() == done.size() ? st.mean() : Double.NaN;   // a band only where every seed has the epoch
            std[e] = st.n() == done.size() ? st.std() : Double.NaN;
        }
        return new SeedSummary(label, method, List.copyOf(done), Stat.of(last), Stat.of(atVal), Stat.of(bestVal), List.copyOf(reach),
                Stat.of(wall), mean, std);
    }

    /** Epochs to the target over seeds: "3 · 4 · —" (a dash where a seed never reached it). */
    public String epochsToTargetText() {
        if (epochsToTarget.isEmpty()) return Format.NONE;
        StringBuilder b = new StringBuilder();
        for (int e : epochsToTarget) b.append(b.isEmpty() ? "" : " · ").append(Format.count(e));
        return b.toString();
    }

    /** The seeds' mean test top-1 per epoch with ± std error bars. */
    public Charts.Series band(int color) {
        List<Double> x = new ArrayList<>(), y = new ArrayList<>();
        for (int e = 0; e < epochMean.length; e++) {
            x.add(e + 1.0);
            y.add(epochMean[e]);
        }
        return new Charts.Series(label + " (" + seeds.size() + (seeds.size() == 1 ? " seed)" : " seeds)"), x, y, color);
    }

    /** The error bars of {@link #band}: one standard deviation. */
    public List<Double> bandErrors() {
        List<Double> err = new ArrayList<>();
        for (double s : epochStd) err.add(s);
        return err;
    }
}

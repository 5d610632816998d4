package org.stablekd.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The numbers of one run that go in a comparison table. NaN / −1 where the run has no such value
 * (no epochs yet, target never reached, a key not logged).
 *
 * @param epochs          epochs recorded (the last record's epoch)
 * @param lastTop1        test top-1 (%) of the last epoch — the number to report (see
 *                        docs/design.md, Reference results)
 * @param bestTop1        the highest test top-1 over the epochs, and {@code bestEpoch} where it was reached
 * @param epochsToTarget  the first epoch whose test top-1 reached the target; −1 if none did or no target
 * @param wallSeconds     wall time of the run; a resumed run's sessions are added up (wall_seconds restarts at each)
 * @param imagesPerSecond training throughput, the median over epochs of train_images_per_s
 * @param teacherStddev   the last logged {@code t_stddev} (the T. stddev of the run's augmentation), NaN if none
 */
public record RunSummary(String label, String method, int epochs, double lastTop1, double bestTop1, int bestEpoch,
                         int epochsToTarget, double wallSeconds, double imagesPerSecond, double teacherStddev) {

    /** {@code target} in percent top-1, NaN for none. */
    public static RunSummary of(RunMetrics m, double target) {
        List<Map<String, Object>> recs = m.records();
        String method = m.lastString("method");
        int epochs = 0;
        double last = Double.NaN, best = Double.NaN;
        int bestEpoch = -1, toTarget = -1;
        List<Double> rates = new ArrayList<>();
        double tStddev = Double.NaN;
        for (Map<String, Object> r : recs) {
            double t = RunMetrics.number(r, "t_stddev");
            if (Double.isFinite(t)) tStddev = t;
            double e = RunMetrics.epoch(r), top1 = RunMetrics.number(r, "test_top1"), rate = RunMetrics.number(r, "train_images_per_s");
            if (Double.isFinite(e)) epochs = Math.max(epochs, (int) e);
            if (Double.isFinite(rate)) rates.add(rate);
            if (!Double.isFinite(top1)) continue;
            last = top1;
            if (!(top1 <= best)) {   // also when best is still NaN
                best = top1;
                bestEpoch = (int) e;
            }
            if (toTarget < 0 && Double.isFinite(target) && top1 >= target) toTarget = (int) e;
        }
        if (!recs.isEmpty() && !Double.isFinite(RunMetrics.number(recs.getLast(), "test_top1"))) last = Double.NaN;
        return new RunSummary(m.label(), method, epochs, last, best, bestEpoch, toTarget, wallSeconds(recs), median(rates), tStddev);
    }

    /**
     * Sums the wall time over sessions: {@code wall_seconds} grows within a session and starts
     * again from zero when a run is resumed, so every drop closes a session.
     */
    static double wallSeconds(List<Map<String, Object>> recs) {
        double total = 0, previous = Double.NaN;
        boolean any = false;
        for (Map<String, Object> r : recs) {
            double w = RunMetrics.number(r, "wall_seconds");
            if (!Double.isFinite(w)) continue;
            if (any && w < previous) total += previous;
            previous = w;
            any = true;
        }
        return any ? total + previous : Double.NaN;
    }

    static double median(List<Double> values) {
        if (values.isEmpty()) return Double.NaN;
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}

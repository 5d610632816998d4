package org.stablekd.distill;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.nn.Parameter;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.train.StepObserver;

/**
 * The IBOE diagnostic (docs/design.md, IBOE diagnostic): how noisy each student block's gradient
 * is. Per block (a stage of the student) and per window of W steps:
 * <pre>
 *   SNR    = ‖E[g]‖² / E‖g − E[g]‖²   (= ‖mean‖² / (mean ‖g‖² − ‖mean‖²))
 *   cosine = mean over consecutive steps of cos(g_t, g_{t−1})
 * </pre>
 * where g is the block's loss gradient (before weight decay) read from the gradient slab after
 * each backward. An epoch reports the mean over its windows as {@code iboe_snr_b<k>} and
 * {@code iboe_cos_b<k>}. High SNR and cosine: a steady descent direction; IBOE shows as low values.
 */
public final class GradientNoise implements StepObserver {
    private final int window;
    private final ParameterSlab slab;
    private final List<Block> blocks = new ArrayList<>();

    /** One student block: its slab ranges and running sums. */
    private static final class Block {
        final String name;
        final long[] offsets, lengths;
        final int size;
        final double[] sum, prev;
        double sumSq, cosSum;
        int steps, cosCount;
        boolean hasPrev;
        final List<double[]> windows = new ArrayList<>(); // {snr, cos} per finished window this epoch

        Block(String name, long[] offsets, long[] lengths) {
            this.name = name;
            this.offsets = offsets;
            this.lengths = lengths;
            long n = 0;
            for (long l : lengths) n += l;
            this.size = Math.toIntExact(n);
            this.sum = new double[size];
            this.prev = new double[size];
        }
    }

    public GradientNoise(Model student, ParameterSlab slab, int window) {
        if (window < 2) throw new IllegalArgumentException("the gradient-noise window needs at least 2 steps, got " + window);
        this.window = window;
        Map<Parameter, ParameterSlab.Entry> where = new IdentityHashMap<>();
        for (ParameterSlab.Entry e : slab.entries()) where.put(e.parameter(), e);
        for (int s = 0; s < student.stageCount(); s++) {
            List<Parameter> ps = student.stageParameters(s);
            long[] off = new long[ps.size()], len = new long[ps.size()];
            for (int i = 0; i < ps.size(); i++) {
                ParameterSlab.Entry e = where.get(ps.get(i));
                if (e == null) throw new IllegalArgumentException("a parameter of stage " + s + " is not in the slab");
                off[i] = e.offset();
                len[i] = e.numel();
            }
            if (ps.isEmpty()) continue;
            blocks.add(new Block("b" + (s + 1), off, len));
        }
        this.slab = slab;
    }

    @Override
    public void afterBackward() {
        MemorySegment g = slab.grads().segment();
        long base = slab.grads().offset();
        for (Block b : blocks) {
            double sq = 0, dot = 0, prevSq = 0;
            int k = 0;
            for (int p = 0; p < b.offsets.length; p++) {
                long o = base + b.offsets[p];
                for (long i = 0; i < b.lengths[p]; i++, k++) {
                    double v = g.getAtIndex(ValueLayout.JAVA_FLOAT, o + i);
                    b.sum[k] += v;
                    sq += v * v;
                    dot += v * b.prev[k];
                    prevSq += b.prev[k] * b.prev[k];
                    b.prev[k] = v;
                }
            }
            b.sumSq += sq;
            if (b.hasPrev && sq > 0 && prevSq > 0) {
                b.cosSum += dot / Math.sqrt(sq * prevSq);
                b.cosCount++;
            }
            b.hasPrev = true;
            if (++b.steps == window) closeWindow(b);
        }
    }

    private void closeWindow(Block b) {
        double meanSq = 0;
        for (int k = 0; k < b.size; k++) {
            double m = b.sum[k] / b.steps;
            meanSq += m * m;
            b.sum[k] = 0;
        }
        double noise = b.sumSq / b.steps - meanSq;
        double snr = noise > 0 ? meanSq / noise : Double.POSITIVE_INFINITY;
        b.windows.add(new double[] {snr, b.cosCount > 0 ? b.cosSum / b.cosCount : Double.NaN});
        b.steps = 0;
        b.sumSq = 0;
        b.cosSum = 0;
        b.cosCount = 0;
    }

    /** The epoch's means over finished windows (a partial window carries into the next epoch). */
    @Override
    public Map<String, Object> epochMetrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Block b : blocks) {
            if (b.windows.isEmpty()) continue;
            double snr = 0, cos = 0;
            int n = 0;
            for (double[] w : b.windows) {
                if (!Double.isFinite(w[0]) || Double.isNaN(w[1])) continue;
                snr += w[0];
                cos += w[1];
                n++;
            }
            if (n > 0) {
                m.put("iboe_snr_" + b.name, snr / n);
                m.put("iboe_cos_" + b.name, cos / n);
            }
            b.windows.clear();
        }
        return m;
    }

    /** Block names in order (b1 … bS). */
    public List<String> blockNames() {
        List<String> names = new ArrayList<>();
        for (Block b : blocks) names.add(b.name);
        return names;
    }
}

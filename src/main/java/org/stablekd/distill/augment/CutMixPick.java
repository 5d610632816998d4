package org.stablekd.distill.augment;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/**
 * CutMixPick, "T. ent." variant (Wang et al., NeurIPS 2022, §4; reference code {@code cutmix_pick}
 * with {@code --mix_n_run 2 --cutmix_pick_criterion teacher_entropy}): run {@link CutMix}
 * {@code passes} times over the batch (each pass with its own λ, box and partners), giving
 * passes·B candidates; run the frozen teacher on every candidate; keep the B candidates whose
 * teacher prediction has the highest entropy H = −Σ_c p_c·log p_c, p = softmax(logits) at
 * temperature 1. The paper's argument: high-entropy samples carry more of the teacher's "dark
 * knowledge" and lower the variance of the teacher-student cross-entropy.
 *
 * <p>Ties go to the earlier candidate (pass, then position in the batch); a NaN entropy ranks
 * lowest. The picked samples are returned in candidate order, so samples of one pass — one λ —
 * stay together and {@link MixedLoss} needs at most {@code passes} cross-entropy calls per label
 * set. The teacher's logits on the picked images come with the result: a KD term on the mixed
 * batch needs no second teacher forward.
 *
 * <p>Draws: exactly those of {@code passes} consecutive {@link CutMix#apply} calls.
 */
public final class CutMixPick implements BatchAugment {
    private final int passes;
    private final CutMix cutMix;

    public CutMixPick(int passes, CutMix cutMix) {
        if (passes < 1) throw new IllegalArgumentException("CutMixPick needs at least one CutMix pass, got " + passes);
        this.passes = passes;
        this.cutMix = cutMix;
    }

    /** {@code passes} passes of CutMix with λ ~ U(0, 1) and distinct partners (the paper uses 2). */
    public CutMixPick(int passes) {
        this(passes, new CutMix());
    }

    public CutMixPick() {
        this(2);
    }

    @Override
    public String name() {
        return "cutmix_pick";
    }

    @Override
    public Mixed apply(Tensor images, Tensor labels, Teacher teacher, Rng rng) {
        HostBatch.check(images, labels);
        if (teacher == null) throw new IllegalArgumentException("CutMixPick ranks candidates by the teacher's entropy, so it needs the teacher");
        int b = images.dim(0);
        List<Mixed> pool = new ArrayList<>(passes);
        List<float[]> poolLogits = new ArrayList<>(passes);
        double[] entropy = new double[passes * b];
        int classes = -1;
        for (int p = 0; p < passes; p++) {
            Mixed m = cutMix.apply(images, labels, null, rng);
            Tensor t = teacher.logits(m.images());
            if (t.rank() != 2 || t.dim(0) != b) throw new IllegalStateException("the teacher returned logits " + t.shape() + " for " + b + " images");
            classes = t.dim(1);
            float[] z = t.toFloatArray();
            for (int i = 0; i < b; i++) entropy[p * b + i] = entropy(z, i * classes, classes);
            pool.add(m);
            poolLogits.add(z);
        }
        return assemble(pool, poolLogits, pick(entropy, b), classes);
    }

    /**
     * The {@code keep} candidates of highest entropy, as candidate indices in increasing order
     * (ties: the earlier candidate wins; NaN ranks lowest).
     */
    static int[] pick(double[] entropy, int keep) {
        if (keep > entropy.length) throw new IllegalArgumentException("cannot keep " + keep + " of " + entropy.length + " candidates");
        Comparator<Integer> highestFirst = Comparator.comparingDouble((Integer i) -> Double.isNaN(entropy[i]) ? Double.NEGATIVE_INFINITY : entropy[i])
                .reversed().thenComparingInt(i -> i);
        return IntStream.range(0, entropy.length).boxed().sorted(highestFirst).limit(keep).mapToInt(Integer::intValue).sorted().toArray();
    }

    /** H(softmax(z)) in nats for the row z[from .. from+n), computed stably: H = logΣe^z − Σ p·z. */
    static double entropy(float[] z, int from, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) max = Math.max(max, z[from + j]);
        double sum = 0, weighted = 0;
        for (int j = 0; j < n; j++) {
            double e = Math.exp(z[from + j] - max);
            sum += e;
            weighted += e * z[from + j];
        }
        return max + Math.log(sum) - weighted / sum;
    }

    private static Mixed assemble(List<Mixed> pool, List<float[]> poolLogits, int[] picked, int classes) {
        Tensor first = pool.get(0).images();
        int b = first.dim(0);
        long per = first.numel() / b;
        Tensor images = HostBatch.like(first);
        MemorySegment dst = HostBatch.segmentOf(images);
        int[] labelsA = new int[b], labelsB = new int[b];
        double[] lambda = new double[b];
        float[] logits = new float[b * classes];
        for (int k = 0; k < picked.length; k++) {
            int pass = picked[k] / b, i = picked[k] % b;
            Mixed m = pool.get(pass);
            HostBatch.copyImage(HostBatch.segmentOf(m.images()), i, dst, k, per);
            labelsA[k] = (int) m.labelsA().getFlat(i);
            labelsB[k] = (int) m.labelsB().getFlat(i);
            lambda[k] = m.lambda()[i];
            System.arraycopy(poolLogits.get(pass), i * classes, logits, k * classes, classes);
        }
        return new Mixed(images, Tensor.ofInts(labelsA, b), Tensor.ofInts(labelsB, b), lambda, Tensor.of(logits, b, classes));
    }

    @Override
    public String toString() {
        return "cutmix_pick(" + passes + " passes of " + cutMix + ", keep the highest teacher entropy)";
    }

}

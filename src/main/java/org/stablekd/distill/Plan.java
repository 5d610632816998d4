package org.stablekd.distill;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Shape;

/**
 * A StableKD run as data (docs/design.md, Plan parameters): how both networks are cut into
 * aligned blocks, how many epochs each recomposition stage lasts, how groups merge, the losses,
 * and whether learned connectors may bridge blocks whose shapes differ. Every choice the paper
 * leaves open is a field here; {@link #validate} checks a plan against a teacher/student pair
 * before training.
 *
 * <p>Cuts are stage indices of each model, from 0 to its stage count: block i is stages
 * [cuts[i], cuts[i+1]). {@code [0,1,2,3,4]} on a 4-stage model gives 4 blocks of one stage.
 *
 * @param studentCuts    block boundaries in the student's stages (first 0, last its stage count)
 * @param teacherCuts    the matching boundaries in the teacher's stages
 * @param stageEpochs    epochs of each stage of {@link Recomposition#schedule}; the last stage is plain KD
 * @param mergeFactor    how many neighbouring groups R merges (2)
 * @param innerWeight    weight of the feature loss (MSE to the teacher's block output) of an inner group
 * @param ceWeight       weight of cross-entropy on the labels for the group that ends with the logits
 * @param kdWeight       weight of the KD loss (τ²·KL) for that group
 * @param tau            KD temperature
 * @param restartSchedule the learning-rate schedule restarts at each stage (else it spans the whole run)
 * @param connectors     learned 1×1 conv + BN connectors where block shapes differ in channels
 *                       (docs/design.md, Connectors)
 * @param policies       BatchNorm statistics, optimizer state at a stage change, the inner loss's
 *                       scale, connector ReLU ({@link Policies})
 */
public record Plan(int[] studentCuts, int[] teacherCuts, int[] stageEpochs, int mergeFactor, double innerWeight,
                   double ceWeight, double kdWeight, double tau, boolean restartSchedule, boolean connectors, Policies policies) {

    public Plan {
        if (policies == null) throw new IllegalArgumentException("a plan needs its policies (Policies.DEFAULTS)");
    }

    /** With the default {@link Policies}. */
    public Plan(int[] studentCuts, int[] teacherCuts, int[] stageEpochs, int mergeFactor, double innerWeight,
                double ceWeight, double kdWeight, double tau, boolean restartSchedule, boolean connectors) {
        this(studentCuts, teacherCuts, stageEpochs, mergeFactor, innerWeight, ceWeight, kdWeight, tau, restartSchedule, connectors, Policies.DEFAULTS);
    }

    public Plan withPolicies(Policies p) {
        return new Plan(studentCuts, teacherCuts, stageEpochs, mergeFactor, innerWeight, ceWeight, kdWeight, tau, restartSchedule, connectors, p);
    }

    /** One block per stage, epochs split evenly over the stages (earlier stages take any remainder), MSE weight 1, 0.1·CE + 0.9·KD at τ = 4. */
    public static Plan defaults(int studentStages, int teacherStages, int epochs) {
        int blocks = Math.min(studentStages, teacherStages);
        int[] s = evenCuts(studentStages, blocks), t = evenCuts(teacherStages, blocks);
        int stages = Recomposition.stageCount(blocks, 2);
        return new Plan(s, t, splitEpochs(epochs, stages), 2, 1.0, 0.1, 0.9, 4.0, false, false);
    }

    /** {@code blocks} cuts as even as possible over {@code stages} stages (every stage its own block when equal). */
    static int[] evenCuts(int stages, int blocks) {
        int[] c = new int[blocks + 1];
        for (int i = 0; i <= blocks; i++) c[i] = (int) Math.round((double) i * stages / blocks);
        return c;
    }

    /** {@code epochs} over {@code stages} stages, as evenly as possible, earlier stages first. */
    public static int[] splitEpochs(int epochs, int stages) {
        int[] e = new int[stages];
        for (int i = 0; i < stages; i++) e[i] = epochs / stages + (i < epochs % stages ? 1 : 0);
        return e;
    }

    public int blocks() {
        return studentCuts.length - 1;
    }

    public int totalEpochs() {
        return Arrays.stream(stageEpochs).sum();
    }

    /** The partitions of every stage. */
    public List<List<Recomposition.Group>> schedule() {
        return Recomposition.schedule(blocks(), mergeFactor);
    }

    /** The stage that {@code epoch} (0-based) belongs to, and the first epoch of that stage. */
    public int stageOf(int epoch) {
        int end = 0;
        for (int s = 0; s < stageEpochs.length; s++) {
            end += stageEpochs[s];
            if (epoch < end) return s;
        }
        return stageEpochs.length - 1;
    }

    public int firstEpochOf(int stage) {
        int e = 0;
        for (int s = 0; s < stage; s++) e += stageEpochs[s];
        return e;
    }

    /** Shapes (per image, C,H,W or classes) at every block boundary of both models. */
    public record Boundaries(List<Shape> student, List<Shape> teacher) {}

    /**
     * Checks the plan against a pair, before any training: cut points each model has, stage
     * epochs matching the schedule, the same classes, and equal shapes at every inner boundary
     * unless connectors are allowed (then the maps may differ in channels only). Every problem
     * is one IllegalArgumentException that says which block and which shapes.
     */
    public Boundaries validate(Model teacher, Model student) {
        List<String> problems = new ArrayList<>();
        checkCuts("student " + student.name(), studentCuts, student.stageCount(), problems);
        checkCuts("teacher " + teacher.name(), teacherCuts, teacher.stageCount(), problems);
        if (studentCuts.length != teacherCuts.length) {
            problems.add("the student has " + (studentCuts.length - 1) + " blocks but the teacher " + (teacherCuts.length - 1));
        }
        if (mergeFactor < 2) problems.add("mergeFactor must be at least 2, got " + mergeFactor);
        if (!problems.isEmpty()) throw new IllegalArgumentException("StableKD plan: " + String.join("; ", problems));
        int stages = Recomposition.stageCount(blocks(), mergeFactor);
        if (stageEpochs.length != stages) {
            problems.add(blocks() + " blocks merged " + mergeFactor + " at a time give " + stages + " stages " + schedule()
                    + ", but stageEpochs has " + stageEpochs.length + " entries " + Arrays.toString(stageEpochs));
        }
        for (int e : stageEpochs) if (e < 0) problems.add("stageEpochs must not be negative: " + Arrays.toString(stageEpochs));
        if (totalEpochs() < 1) problems.add("the plan has no epochs");
        if (!(tau > 0)) problems.add("tau must be positive, got " + tau);
        if (innerWeight < 0 || ceWeight < 0 || kdWeight < 0) problems.add("loss weights must not be negative");
        if (teacher.numClasses() != student.numClasses()) {
            problems.add("the teacher has " + teacher.numClasses() + " classes, the student " + student.numClasses());
        }
        if (!teacher.inputShape().equals(student.inputShape())) {
            problems.add("the teacher takes " + teacher.inputShape() + " images, the student " + student.inputShape());
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("StableKD plan: " + String.join("; ", problems));
        List<Shape> s = boundaryShapes(student, studentCuts), t = boundaryShapes(teacher, teacherCuts);
        for (int i = 1; i < blocks(); i++) {
            Shape a = s.get(i), b = t.get(i);
            if (a.equals(b)) continue;
            String where = "block " + i + " of " + student.name() + " ends with " + a + " but block " + i + " of " + teacher.name() + " ends with " + b;
            if (!connectors) {
                problems.add(where + "; allow learned connectors (\"connectors: true\", --param connectors=true) or choose other cut points");
            } else if (a.rank() != 3 || b.rank() != 3) {
                problems.add(where + "; connectors bridge feature maps (C,H,W) only");
            } else if (a.dim(1) != b.dim(1) || a.dim(2) != b.dim(2)) {
                // each inner cut gets connectors both ways (teacher → student input, student output →
                // teacher), so one of them would have to upsample, which connectors do not do
                problems.add(where + "; connectors bridge channel counts only, not height and width"
                        + " (one of the cut's two connectors would have to upsample): choose cut points where both maps have the same size");
            }
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("StableKD plan: " + String.join("; ", problems));
        return new Boundaries(s, t);
    }

    private static void checkCuts(String who, int[] cuts, int stageCount, List<String> problems) {
        if (cuts.length < 2 || cuts[0] != 0 || cuts[cuts.length - 1] != stageCount) {
            problems.add(who + " cuts " + Arrays.toString(cuts) + " must start at 0 and end at its stage count " + stageCount);
            return;
        }
        for (int i = 1; i < cuts.length; i++) {
            if (cuts[i] <= cuts[i - 1]) problems.add(who + " cuts " + Arrays.toString(cuts) + " must increase strictly");
        }
    }

    /** Per-image shapes at the cuts: element 0 is the input, the last the logits. */
    static List<Shape> boundaryShapes(Model m, int[] cuts) {
        List<Shape> stageOut = m.stageShapes(1);
        List<Shape> out = new ArrayList<>();
        for (int c : cuts) {
            Shape full = c == 0 ? null : stageOut.get(c - 1);
            out.add(c == 0 ? m.inputShape() : drop(full));
        }
        return out;
    }

    private static Shape drop(Shape batched) {
        int[] d = batched.dims();
        return Shape.of(Arrays.copyOfRange(d, 1, d.length));
    }

    @Override
    public String toString() {
        return "Plan[blocks " + blocks() + " (student cuts " + Arrays.toString(studentCuts) + ", teacher cuts " + Arrays.toString(teacherCuts)
                + "), stages " + schedule() + " with epochs " + Arrays.toString(stageEpochs) + ", merge " + mergeFactor
                + ", inner loss x" + innerWeight + ", final " + ceWeight + "·CE + " + kdWeight + "·KD(τ=" + tau + ")"
                + (restartSchedule ? ", schedule restarts per stage" : "") + (connectors ? ", connectors" : "") + "; " + policies + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Plan p && Arrays.equals(studentCuts, p.studentCuts) && Arrays.equals(teacherCuts, p.teacherCuts)
                && Arrays.equals(stageEpochs, p.stageEpochs) && mergeFactor == p.mergeFactor && innerWeight == p.innerWeight
                && ceWeight == p.ceWeight && kdWeight == p.kdWeight && tau == p.tau && restartSchedule == p.restartSchedule
                && connectors == p.connectors && policies.equals(p.policies);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(studentCuts) * 31 + Arrays.hashCode(stageEpochs);
    }
}

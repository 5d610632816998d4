package org.stablekd.distill;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.ops.Losses;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.LrSchedule;
import org.stablekd.optim.LrSpec;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.train.TrainingMethod;

/**
 * StableKD (Kao, Chen, Chan, arXiv 2312.13223): Decomposition, then Recomposition by a
 * {@link Plan}.
 *
 * <p>Each step runs the frozen teacher once and keeps its features h_0 (the image) … h_N (the
 * logits) at the plan's cuts. In the current stage every group [a..b] of student blocks takes the
 * teacher's h_a (through an input connector if shapes differ) and is trained to produce h_{b+1}:
 * an inner group by innerWeight·MSE, optionally over Var(h_{b+1}) (through an output connector if
 * shapes differ), the group
 * that ends with the logits by ceWeight·CE + kdWeight·KD(τ). Groups share no activations, so one
 * backward trains them all at once and independently; the last stage (one group, input = image)
 * is ordinary end-to-end KD. Student weights carry over between stages; the student's BatchNorm
 * stays in training mode throughout, the teacher's in eval mode.
 *
 * <p>The plan's {@link Policies} reach the trainer through {@link TrainingMethod}'s hooks: BatchNorm
 * recalibration before the evaluation of teacher-fed epochs, a momentum reset at the first epoch
 * of each later stage, retired connectors frozen, and the name of the training accuracy (the last
 * group's on teacher features while there are several groups). NOTES.md, Note [StableKD].
 */
public final class StableKD implements TrainingMethod {
    private final Teacher teacher;
    private final Model student;
    private final Plan plan;
    private final List<List<Recomposition.Group>> schedule;
    private final Map<Integer, Connector> inConnectors = new LinkedHashMap<>();   // cut → teacher h_cut to student input
    private final Map<Integer, Connector> outConnectors = new LinkedHashMap<>();  // cut → student output to teacher h_cut
    private final LrSpec restartSpec;
    private final PrintStream log;
    private int currentStage = -1;

    /**
     * @param restartSpec the schedule recipe to restart per stage when the plan asks for it (may be null otherwise)
     */
    public StableKD(Model teacher, Model student, Plan plan, LrSpec restartSpec, Rng rng, PrintStream log) {
        Plan.Boundaries b = plan.validate(teacher, student);
        if (plan.restartSchedule() && restartSpec == null) throw new IllegalArgumentException("a plan that restarts its schedule needs the schedule recipe");
        this.teacher = new Teacher(teacher);
        this.student = student;
        this.plan = plan;
        this.schedule = plan.schedule();
        this.restartSpec = restartSpec;
        this.log = log;
        for (int cut = 1; cut < plan.blocks(); cut++) {
            Shape s = b.student().get(cut), t = b.teacher().get(cut);
            if (s.equals(t)) continue;
            inConnectors.put(cut, new Connector(t, s, rng, plan.policies().connectorRelu()));
            outConnectors.put(cut, new Connector(s, t, rng));
        }
    }

    @Override public String name() { return "stablekd"; }
    @Override public Model model() { return student; }
    public Plan plan() { return plan; }

    /** The student (and its connectors) and the frozen teacher. */
    @Override
    public void to(org.stablekd.tensor.Device device) {
        TrainingMethod.super.to(device);
        teacher.to(device);
    }

    @Override
    public Map<String, Module> trainable() {
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("model", student);
        inConnectors.forEach((cut, c) -> m.put("connector.in." + cut, c));
        outConnectors.forEach((cut, c) -> m.put("connector.out." + cut, c));
        return m;
    }

    /** The groups trained in {@code epoch}. */
    public List<Recomposition.Group> groupsAt(int epoch) {
        return schedule.get(plan.stageOf(epoch));
    }

    @Override
    public void startEpoch(int epoch) {
        int stage = plan.stageOf(epoch);
        if (stage != currentStage) {
            if (log != null) {
                log.printf("StableKD stage %d/%d from epoch %d: %s%s%n", stage + 1, schedule.size(), epoch + 1, schedule.get(stage),
                        stage == schedule.size() - 1 ? " (end-to-end KD)" : currentStage < 0 ? " (decomposition)" : " (recomposition)");
            }
            currentStage = stage;
        }
    }

    /** Connectors at cuts inside a group of {@code epoch}'s stage: no group reads them any more. */
    private List<Module> retiredConnectors(int epoch) {
        java.util.Set<Integer> boundaries = new java.util.HashSet<>();
        for (Recomposition.Group g : groupsAt(epoch)) boundaries.add(g.first());
        List<Module> out = new java.util.ArrayList<>();
        inConnectors.forEach((cut, c) -> { if (!boundaries.contains(cut)) out.add(c); });
        outConnectors.forEach((cut, c) -> { if (!boundaries.contains(cut)) out.add(c); });
        return out;
    }

    @Override
    public java.util.Collection<Module> frozen(int epoch) {
        return plan.policies().retiredConnectors() == Policies.RetiredConnectors.FREEZE ? retiredConnectors(epoch) : List.of();
    }

    /** With momentum_at_merge: reset, at the first epoch of every stage after decomposition (a pure function of the epoch, so resuming agrees). */
    @Override
    public boolean resetsMomentum(int epoch) {
        int stage = plan.stageOf(epoch);
        return plan.policies().momentumAtMerge() == Policies.MomentumAtMerge.RESET && stage > 0 && epoch == plan.firstEpochOf(stage);
    }

    /** Where some group was fed teacher features this epoch (every stage but the last), the student's running statistics came from them. */
    private boolean teacherFed(int epoch) {
        return groupsAt(epoch).size() > 1;
    }

    @Override
    public int bnRecalibrationBatches(int epoch) {
        return teacherFed(epoch) ? plan.policies().bnRecalibrateBatches() : 0;
    }

    @Override
    public String trainAccuracyKey(int epoch) {
        return teacherFed(epoch) ? "train_top1_last_group_on_teacher_features" : "train_top1";
    }

    @Override
    public double learningRate(LrSchedule whole, int epoch, double fraction) {
        if (!plan.restartSchedule()) return whole.at(epoch, fraction);
        int stage = plan.stageOf(epoch);
        return restartSpec.build(plan.stageEpochs()[stage]).at(epoch - plan.firstEpochOf(stage), fraction);
    }

    @Override
    public Map<String, Object> epochInfo(int epoch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", plan.stageOf(epoch) + 1);
        m.put("groups", groupsAt(epoch).toString());
        return m;
    }

    @Override
    public Map<String, String> checkpointMetadata() {
        return Map.of("plan", plan.toString());
    }

    @Override
    public Step step(Tensor images, Tensor labels, int epoch, long step) {
        int[] tc = plan.teacherCuts(), sc = plan.studentCuts();
        int n = plan.blocks();
        List<Tensor> h = teacher.features(images, java.util.Arrays.copyOfRange(tc, 1, tc.length)); // h_1 … h_N
        Map<String, Tensor> losses = new LinkedHashMap<>();
        Tensor logits = null;
        for (Recomposition.Group g : groupsAt(epoch)) {
            Tensor x = g.first() == 0 ? images : input(g.first(), h.get(g.first() - 1));
            Tensor out = student.forwardStages(sc[g.first()], sc[g.last() + 1], x);
            if (g.last() == n - 1) {
                logits = out;
                KdLogitLoss.put(losses, g + ".", out, h.get(n - 1), labels, plan.tau(), plan.ceWeight(), plan.kdWeight());
            } else {
                Connector c = outConnectors.get(g.last() + 1);
                Tensor o = c == null ? out : c.forward(out);
                Tensor target = h.get(g.last());
                boolean normalized = plan.policies().innerLoss() == Policies.InnerLoss.NORMALIZED_MSE;
                double scale = normalized ? plan.innerWeight() / (variance(target) + NORMALIZED_MSE_EPS) : plan.innerWeight();
                losses.put(g + (normalized ? ".nmse" : ".mse"), Pointwise.scale(Losses.mse(o, target), scale));
            }
        }
        return new Step(logits, losses);
    }

    static final double NORMALIZED_MSE_EPS = 1e-8;

    /**
     * Var(t) over all of the batch's elements, a constant of the step (the teacher gets no
     * gradient). On a device the mean is broadcast there, so only Var itself comes back: one
     * scalar per inner group and step (the loss scale is a host number until there is a division op).
     */
    static double variance(Tensor t) {
        if (!t.device().isHost()) {
            try (org.stablekd.tensor.Restore ng = org.stablekd.autograd.Autograd.noGrad()) {
                Tensor mean = org.stablekd.ops.Reduce.mean(t);
                Tensor centered = Pointwise.sub(t, org.stablekd.ops.Memory.broadcastScalar(mean, 1.0, t));
                return org.stablekd.backend.Transfers.toHost(org.stablekd.ops.Reduce.mean(Pointwise.mul(centered, centered))).item();
            }
        }
        try (org.stablekd.tensor.Restore ng = org.stablekd.autograd.Autograd.noGrad()) {
            double mean = org.stablekd.ops.Reduce.mean(t).item();
            Tensor centered = Pointwise.addScalar(t, -mean);
            return org.stablekd.ops.Reduce.mean(Pointwise.mul(centered, centered)).item();
        }
    }

    /** The student's input for the block starting at {@code cut}: the teacher's feature there, bridged if needed. */
    private Tensor input(int cut, Tensor teacherFeature) {
        Connector c = inConnectors.get(cut);
        return c == null ? teacherFeature : c.forward(teacherFeature);
    }
}

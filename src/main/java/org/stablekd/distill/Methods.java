package org.stablekd.distill;

import java.io.PrintStream;
import java.util.Set;
import org.stablekd.nn.Model;
import org.stablekd.optim.LrSpec;
import org.stablekd.tensor.Rng;
import org.stablekd.train.Supervised;
import org.stablekd.train.TrainingMethod;

/** Builds a {@link TrainingMethod} from an experiment's method entry (the names and parameters users write). */
public final class Methods {
    /** Method names, for help texts. */
    public static final Set<String> NAMES = Set.of("ce", "kd", "fitnets", "at", "dkd", "stablekd");

    private Methods() {}

    /** True if the method needs a teacher. */
    public static boolean needsTeacher(String method) {
        return !method.equals("ce");
    }

    public static TrainingMethod create(MethodSpec m, Model teacher, Model student, int epochs, LrSpec lr, Rng rng, PrintStream log) {
        return create(m, teacher, student, epochs, lr, "none", 0, rng, log);
    }

    /** {@code augment} (none, mixup, cutmix, cutmix_pick) applies to KD; {@code seed} seeds it. */
    public static TrainingMethod create(MethodSpec m, Model teacher, Model student, int epochs, LrSpec lr, String augment,
                                        long seed, Rng rng, PrintStream log) {
        if (needsTeacher(m.method()) && teacher == null) {
            throw new IllegalArgumentException("method " + m.label() + " (" + m.method() + ") needs a teacher: give 'teacher: {model: …, weights: …}'");
        }
        return switch (m.method()) {
            case "ce" -> {
                m.allow(Set.of("label_smoothing"));
                yield new Supervised(student, m.num("label_smoothing", 0));
            }
            case "kd" -> {
                m.allow(Set.of("ce_weight", "kd_weight", "tau", "augment"));
                String aug = m.params().containsKey("augment") ? m.params().get("augment").asText() : augment;
                yield new KD(teacher, student, m.num("ce_weight", 0.1), m.num("kd_weight", 0.9), m.num("tau", 4),
                        org.stablekd.distill.augment.BatchAugment.parse(aug), seed);
            }
            case "dkd" -> {
                m.allow(Set.of("alpha", "beta", "tau", "warmup"));
                yield new DKD(teacher, student, m.num("alpha", DKD.DEFAULT_ALPHA), m.num("beta", DKD.defaultBeta(teacher.name(), student.name())),
                        m.num("tau", DKD.DEFAULT_TAU), (int) m.num("warmup", DKD.DEFAULT_WARMUP_EPOCHS));
            }
            case "at" -> {
                m.allow(Set.of("beta", "student_cuts", "teacher_cuts"));
                int[] sc = m.ints("student_cuts"), tc = m.ints("teacher_cuts");
                if (sc == null && tc == null) sc = tc = AT.innerCuts(teacher, student);
                else if (sc == null) sc = tc;
                else if (tc == null) tc = sc;
                yield new AT(teacher, student, m.num("beta", AT.DEFAULT_BETA), sc, tc);
            }
            case "fitnets" -> {
                m.allow(Set.of("hint_weight", "student_cut", "teacher_cut"));
                yield new FitNets(teacher, student, (int) m.num("student_cut", FitNets.middleCut(student)),
                        (int) m.num("teacher_cut", FitNets.middleCut(teacher)), m.num("hint_weight", 100), rng);
            }
            case "stablekd" -> new StableKD(teacher, student, plan(m, teacher, student, epochs), lr, rng, log);
            default -> throw new IllegalArgumentException("unknown method '" + m.method() + "' in " + m.label() + "; the methods are " + new java.util.TreeSet<>(NAMES));
        };
    }

    /** A StableKD plan from the method's parameters, defaults from {@link Plan#defaults}. */
    static Plan plan(MethodSpec m, Model teacher, Model student, int epochs) {
        m.allow(Set.of("student_cuts", "teacher_cuts", "stage_epochs", "merge_factor", "inner_weight", "ce_weight", "kd_weight", "tau",
                "restart_schedule", "connectors", "bn_recalibrate_batches", "momentum_at_merge", "retired_connectors", "inner_loss",
                "connector_relu"));
        Plan d = Plan.defaults(student.stageCount(), teacher.stageCount(), epochs);
        int[] sc = m.ints("student_cuts"), tc = m.ints("teacher_cuts"), se = m.ints("stage_epochs");
        int merge = (int) m.num("merge_factor", 2);
        int[] s = sc != null ? sc : d.studentCuts(), t = tc != null ? tc : d.teacherCuts();
        int[] e = se != null ? se : Plan.splitEpochs(epochs, Recomposition.stageCount(s.length - 1, merge));
        Plan p = new Plan(s, t, e, merge, m.num("inner_weight", 1), m.num("ce_weight", 0.1), m.num("kd_weight", 0.9), m.num("tau", 4),
                m.bool("restart_schedule", false), m.bool("connectors", false), policies(m));
        if (p.totalEpochs() != epochs) {
            throw new IllegalArgumentException("method " + m.label() + ": stage_epochs " + java.util.Arrays.toString(e) + " sum to " + p.totalEpochs()
                    + " but the experiment has " + epochs + " epochs");
        }
        return p;
    }

    /** The plan's {@link Policies}, defaults from {@link Policies#DEFAULTS}. */
    static Policies policies(MethodSpec m) {
        Policies d = Policies.DEFAULTS;
        return new Policies(m.integer("bn_recalibrate_batches", d.bnRecalibrateBatches(), 0), m.choice("momentum_at_merge", d.momentumAtMerge()),
                m.choice("retired_connectors", d.retiredConnectors()), m.choice("inner_loss", d.innerLoss()),
                m.bool("connector_relu", d.connectorRelu()));
    }
}

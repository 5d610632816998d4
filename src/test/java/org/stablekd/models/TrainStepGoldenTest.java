package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.distill.KD;
import org.stablekd.distill.Teacher;
import org.stablekd.nn.Model;
import org.stablekd.nn.ModuleGroup;
import org.stablekd.nn.Parameter;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;
import org.stablekd.train.Supervised;
import org.stablekd.train.TrainingMethod;

/**
 * Whole training steps against PyTorch 1.13 (fixtures golden/steps-v1, written by
 * scripts/golden/make_step_fixtures.py): the trainer's step — a {@link TrainingMethod}'s losses
 * summed, one backward, {@link Sgd} over the {@link ParameterSlab}, gradients zeroed — on resnet8
 * from {@link ModelFill}'s deterministic start, against torch.optim.SGD. Compared: the loss, every
 * parameter's gradient, every parameter and momentum buffer after each step, every BatchNorm
 * running statistic and counter.
 *
 * <p>{@link Sgd} is torch.optim.SGD with dampening 0 (checked here for nesterov off: first step
 * buf = grad + wd·p, then buf = m·buf + grad + wd·p, p −= lr·buf, weight decay on every
 * parameter). One difference is not exercised: PyTorch skips a parameter whose {@code .grad} is
 * None (no backward has reached it yet: no decay, no momentum), while our step runs over the
 * whole slab, so such a parameter still decays. Once a gradient exists PyTorch 1.13's default
 * zero_grad leaves zeros, not None, and behaves like ours (2.x's default sets None again).
 */
class TrainStepGoldenTest {
    static final Tolerance GRAD = Tolerance.GOLDEN_GRAD_F32;
    static final Tolerance STATE = Tolerance.GOLDEN_STATE_F32;
    static final Tolerance LOSS = Tolerance.GOLDEN_LOSS_F32;
    /** A gradient's scale is at least this fraction of the largest gradient (see {@link StepFixture#compareAll}). */
    static final double FLOOR = 1e-2;

    /** Two CE steps of plain SGD with momentum: the second step's update reads the momentum buffer. */
    @Test
    void twoSgdStepsOfResnet8MatchPyTorch() {
        StepFixture f = StepFixture.load("sgd_resnet8.safetensors");
        Model m = Zoo.create(f.attr("model"), f.intAttr("classes"), Shape.of(3, 32, 32), new Rng(31));
        assertEquals("3x32x32", f.attr("input"));
        ModelFill.fill(m);
        TrainingMethod method = new Supervised(m, 0);
        ParameterSlab slab = ParameterSlab.pack(new ModuleGroup(method.trainable()));
        assertEquals(0, f.intAttr("dampening"));
        Sgd sgd = new Sgd(slab, f.doubleAttr("momentum"), f.doubleAttr("weight_decay"), f.boolAttr("nesterov"));
        double lr = f.doubleAttr("lr");
        Tensor x = f.input(f.intAttr("batch"), 3, 32, 32);
        Tensor labels = f.tensor("labels");
        m.train(true);
        int steps = f.intAttr("steps");
        for (int s = 1; s <= steps; s++) {
            String p = "step" + s + ".";
            try (Scope _ = Scope.open()) {
                step(method, x, labels, s - 1, f, p + "loss", p + "grad.");
                sgd.step(lr);
                sgd.zeroGrad();
            }
            afterStep(f, p, m, slab, sgd, "after step " + s);
        }
        f.assertAllUsed();
        System.out.println(f.worstDifferences());
    }

    /**
     * One KD step (0.1·CE + 0.9·KD at τ = 4 through {@link KD}): a filled resnet20 teacher in eval
     * mode, a resnet8 student in train mode. The teacher's state must not move.
     */
    @Test
    void oneKdStepOfResnet8FromResnet20MatchesPyTorch() {
        StepFixture f = StepFixture.load("kd_resnet20_resnet8.safetensors");
        Shape in = Shape.of(3, 32, 32);
        assertEquals("3x32x32", f.attr("input"));
        int classes = f.intAttr("classes");
        Model teacher = Zoo.create(f.attr("teacher"), classes, in, new Rng(32));
        String prefix = f.attr("teacher_fill_prefix");
        for (var e : teacher.stateDict().entrySet()) ModelFill.fill(prefix + e.getKey(), e.getValue());
        Model student = Zoo.create(f.attr("model"), classes, in, new Rng(33));
        ModelFill.fill(student);
        KD method = new KD(teacher, student, f.doubleAttr("ce_weight"), f.doubleAttr("kd_weight"), f.doubleAttr("tau"));
        ParameterSlab slab = ParameterSlab.pack(new ModuleGroup(method.trainable()));
        assertEquals(0, f.intAttr("dampening"));
        Sgd sgd = new Sgd(slab, f.doubleAttr("momentum"), f.doubleAttr("weight_decay"), f.boolAttr("nesterov"));
        Tensor x = f.input(f.intAttr("batch"), 3, 32, 32);
        Tensor labels = f.tensor("labels");
        student.train(true);
        try (Scope _ = Scope.open()) {
            TrainingMethod.Step st = step(method, x, labels, 0, f, "loss", "grad.");
            f.compareScalar("loss.ce", st.losses().get("ce").item(), LOSS, "0.1·CE");
            f.compareScalar("loss.kd", st.losses().get("kd").item(), LOSS, "0.9·KD");
            sgd.step(f.doubleAttr("lr"));
            sgd.zeroGrad();
        }
        afterStep(f, "", student, slab, sgd, "after the KD step");
        try (Scope _ = Scope.open()) {
            Tensor t = new Teacher(teacher).logits(x);
            f.compare("teacher_logits", t, STATE, f.maxAbs("teacher_logits"), "teacher logits");
        }
        f.compareAll("teacher.", teacher.stateDict(), Tolerance.EXACT, 0, "teacher state (untouched)");
        f.assertAllUsed();
        System.out.println(f.worstDifferences());
    }

    /** The trainer's step up to the optimizer: losses summed in order, the total compared, one backward, every gradient compared. */
    private static TrainingMethod.Step step(TrainingMethod method, Tensor x, Tensor labels, long stepIndex, StepFixture f, String lossKey, String gradPrefix) {
        TrainingMethod.Step st = method.step(x, labels, 0, stepIndex);
        Tensor total = null;
        for (Tensor l : st.losses().values()) total = total == null ? l : Pointwise.add(total, l);
        f.compareScalar(lossKey, total.item(), LOSS, "loss");
        Autograd.backward(total);
        Map<String, Tensor> grads = new LinkedHashMap<>();
        method.model().namedParameters().forEach((k, p) -> grads.put(k, p.grad()));
        f.compareAll(gradPrefix, grads, GRAD, FLOOR, "gradient of");
        return st;
    }

    /** Parameters, momentum buffers (views of Sgd's slab) and BatchNorm buffers after a step. */
    private static void afterStep(StepFixture f, String p, Model m, ParameterSlab slab, Sgd sgd, String when) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        m.namedParameters().forEach((k, v) -> params.put(k, v.value()));
        f.compareAll(p + "param.", params, STATE, 0, when + ":");

        Map<Parameter, String> names = new IdentityHashMap<>();
        m.namedParameters().forEach((k, v) -> names.put(v, k));
        Tensor buf = sgd.momentumBuffer();
        Map<String, Tensor> momentum = new LinkedHashMap<>();
        for (ParameterSlab.Entry e : slab.entries()) {
            momentum.put(names.get(e.parameter()), Tensor.wrap(buf.storage(), buf.offset() + e.offset(), DType.F32, e.parameter().value().shape()));
        }
        f.compareAll(p + "momentum.", momentum, GRAD, FLOOR, when + ": momentum of");

        Map<String, Tensor> buffers = new LinkedHashMap<>();
        m.namedBuffers().forEach((k, b) -> buffers.put(k, b.value()));
        f.compareAll(p + "buffer.", buffers, STATE, 0, when + ":");
    }
}

package org.stablekd.dist;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.data.Normalize;
import org.stablekd.data.RandomHorizontalFlip;
import org.stablekd.data.Compose;
import org.stablekd.data.Transform;
import org.stablekd.backend.Transfers;
import org.stablekd.io.Safetensors;
import org.stablekd.tensor.Device;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Model;
import org.stablekd.ops.Pointwise;
import org.stablekd.ops.Pool;
import org.stablekd.optim.LrSchedule;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.TestData;
import org.stablekd.train.StepObserver;
import org.stablekd.train.Supervised;
import org.stablekd.train.Trainer;
import org.stablekd.train.TrainingMethod;
import org.stablekd.distill.MethodSpec;
import org.stablekd.distill.Methods;
import org.stablekd.optim.LrSpec;

/**
 * One rank of a small data-parallel training run, started by {@link DataParallelTrainingTest} with
 * {@code mpirun -np N java … DistRun key=value…} (or without mpirun: one rank). Each rank writes
 * {@code OUT/pid-R} at start and {@code OUT/state-R.safetensors} (its model's state dict) at the end.
 *
 * <p>Keys: out, epochs, batch, bn (true: conv-BN-ReLU; false: conv-ReLU), check (steps between
 * parameter checks), syncbn, resume, device (cpu, or sim: the simulated device), method (ce, or a distillation method from a random teacher), sleep (ms per step, to give the kill test time), fail (the
 * rank that throws before training, as a rank that cannot read its data would).
 */
public final class DistRun {
    /** conv(1→8) [→ BN] → ReLU | global pool → linear(8→3). */
    static final class Net extends Model {
        final Conv2d conv;
        final BatchNorm2d bn;
        final Linear fc;

        Net(boolean withBn, long seed) {
            super("distnet", 3, Shape.of(1, 8, 8));
            Rng rng = new Rng(seed);
            conv = child("conv", new Conv2d(1, 8, 3, 1, 1)).kaimingFanOut(rng);
            bn = withBn ? child("bn", new BatchNorm2d(8)) : null;
            fc = child("fc", new Linear(8, 3, true)).pytorchDefault(rng);
        }

        @Override public List<String> stageNames() { return List.of("features", "head"); }

        @Override
        public Tensor forwardStage(int i, Tensor x) {
            if (i == 1) return fc.forward(Pool.globalAvgPool(x));
            Tensor y = conv.forward(x);
            return Pointwise.relu(bn == null ? y : bn.forward(y));
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String s : args) a.put(s.substring(0, s.indexOf('=')), s.substring(s.indexOf('=') + 1));
        Path out = Path.of(a.get("out"));
        int code = 0;
        Communicator comm = World.get();
        try {
            Files.createDirectories(out);
            Files.writeString(out.resolve("pid-" + comm.rank()), Long.toString(ProcessHandle.current().pid()));
            if (Integer.toString(comm.rank()).equals(a.get("fail"))) {
                Thread.sleep(2000);   // the other ranks are in a collective by now
                throw new IllegalStateException("this rank was told to fail");
            }
            boolean bn = Boolean.parseBoolean(a.getOrDefault("bn", "true"));
            long sleep = Long.parseLong(a.getOrDefault("sleep", "0"));
            DataParallel.Settings settings = new DataParallel.Settings(true, 256, Integer.parseInt(a.getOrDefault("check", "0")),
                    Boolean.parseBoolean(a.getOrDefault("syncbn", "false")));
            Net net = new Net(bn, 11);
            Transform trainTf = Compose.of(new RandomHorizontalFlip(0.5), new Normalize(new float[] {0.3f}, new float[] {0.3f}));
            Transform testTf = new Normalize(new float[] {0.3f}, new float[] {0.3f});
            Trainer.Options o = new Trainer.Options(Integer.parseInt(a.getOrDefault("epochs", "2")), Integer.parseInt(a.getOrDefault("batch", "16")),
                    new LrSchedule.Constant(0.1), 0.9, 5e-4, false, 7, out.resolve("run"), Boolean.parseBoolean(a.getOrDefault("resume", "false")),
                    1, 32, false, Map.of());
            String name = a.getOrDefault("method", "ce");
            TrainingMethod method = name.equals("ce") ? new Supervised(net, 0)
                    : Methods.create(new MethodSpec(name, name, Map.of()), new Net(true, 99), net, o.epochs(), LrSpec.multistep(0.1), new Rng(8), System.out);
            Device device = a.getOrDefault("device", "cpu").equals("sim") ? Device.SIM : Device.CPU;
            new Trainer(o, System.out).dataParallel(comm, settings).on(device).fit(method, TestData.bars(100, 3), trainTf, TestData.bars(45, 4), testTf, null,
                    sleep == 0 ? null : slab -> new StepObserver() {
                        @Override public void afterBackward() {
                            try {
                                Thread.sleep(sleep);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        }
                        @Override public Map<String, Object> epochMetrics() { return Map.of(); }
                    });
            Safetensors.write(out.resolve("state-" + comm.rank() + ".safetensors"), Transfers.toHost(net.stateDict()), Map.of());
        } catch (Exception e) {
            System.err.println("rank " + comm.rank() + ": " + e);
            code = 1;
        }
        World.shutdown(code);
        System.exit(code);
    }
}

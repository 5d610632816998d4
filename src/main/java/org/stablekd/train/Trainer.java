package org.stablekd.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.Transfers;
import org.stablekd.data.Batch;
import org.stablekd.data.Dataset;
import org.stablekd.data.Loader;
import org.stablekd.data.LoaderOptions;
import org.stablekd.data.Transform;
import org.stablekd.dist.Communicator;
import org.stablekd.dist.DataParallel;
import org.stablekd.dist.GradientReducer;
import org.stablekd.dist.SyncBatchNorm;
import org.stablekd.dist.World;
import org.stablekd.io.Safetensors;
import org.stablekd.nn.Module;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Memory;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.LrSchedule;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * The training loop: epochs of SGD steps over a {@link Loader}, an evaluation after each epoch,
 * one JSON line of metrics per epoch, and an atomic checkpoint per epoch in the run folder:
 *
 * <pre>
 *   out/checkpoint.safetensors   weights + optimizer + metadata (resume with --resume)
 *   out/weights.safetensors      the trained model's state dict (PyTorch names), last epoch
 *   out/best.safetensors         the state dict of the epoch with the best test top-1
 *   out/metrics.jsonl            one record per epoch
 * </pre>
 *
 * The method steers the optimizer and the evaluation through {@link TrainingMethod}'s hooks:
 * modules frozen for an epoch, a momentum reset before it, BatchNorm statistics re-estimated on
 * training batches before its evaluation (both results logged, {@code bn_stats} says which the
 * test accuracy used), and the name of the training accuracy.
 *
 * <p>A NaN or infinite loss stops the run with {@link TrainingDivergedException}; the checkpoint of
 * the last finished epoch stays as it was. Each step runs in a {@link Scope}, so the steady
 * state allocates nothing new.
 */
public final class Trainer {

    /** Everything the loop needs besides the method and the data. */
    public record Options(int epochs, int batchSize, LrSchedule schedule, double momentum, double weightDecay,
                          boolean nesterov, long seed, Path outDir, boolean resume, int workers, int evalBatchSize,
                          boolean progressBar, Map<String, String> runInfo) {}

    /** Final numbers of a run. */
    public record Result(int epochs, double lastTop1, double bestTop1, int bestEpoch, double trainImagesPerSecond, double wallSeconds) {}

    private final Options o;
    private final PrintStream log;
    private Communicator comm = World.current();
    private DataParallel.Settings dp = World.settings();
    private Device device = Device.CPU;

    public Trainer(Options options, PrintStream log) {
        this.o = options;
        this.log = log;
    }

    /**
     * Trains as one rank of {@code comm} (default: the process's {@link World}): each rank takes its
     * part of every batch, gradients are summed across ranks, rank 0 alone logs and writes files.
     * See NOTES.md, Note [Data parallelism].
     */
    public Trainer dataParallel(Communicator comm, DataParallel.Settings settings) {
        this.comm = comm;
        this.dp = settings;
        return this;
    }

    /**
     * Trains on {@code device} (default: the CPU): the method's modules, the parameter slab and the
     * optimizer state move there, batches are uploaded ({@link DeviceBatches}), evaluation runs
     * there, and a step downloads only its numbers (see {@link TrainingPlacement}).
     */
    public Trainer on(Device device) {
        this.device = device;
        return this;
    }

    public Result fit(TrainingMethod method, Dataset train, Transform trainTf, Dataset test, Transform testTf) throws IOException {
        return fit(method, train, trainTf, test, testTf, null);
    }

    /**
     * Trains; {@code observerFactory} (may be null) builds a step observer from the parameter slab,
     * e.g. the IBOE gradient-noise diagnostic.
     */
    public Result fit(TrainingMethod method, Dataset train, Transform trainTf, Dataset test, Transform testTf,
                      java.util.function.Function<ParameterSlab, StepObserver> observerFactory) throws IOException {
        return fit(method, train, trainTf, test, testTf, null, observerFactory);
    }

    /**
     * As above with a validation set (may be null), evaluated after every epoch with the test
     * transform: its top-1 then chooses best.safetensors, so no choice looks at the test set.
     */
    public Result fit(TrainingMethod method, Dataset train, Transform trainTf, Dataset test, Transform testTf, Dataset validation,
                      java.util.function.Function<ParameterSlab, StepObserver> observerFactory) throws IOException {
        boolean leader = comm.isLeader();
        PrintStream log = leader ? this.log : new PrintStream(java.io.OutputStream.nullOutputStream());
        if (leader) Files.createDirectories(o.outDir());
        Path ckpt = o.outDir().resolve("checkpoint.safetensors");
        MetricsLog metrics = new MetricsLog(o.outDir().resolve("metrics.jsonl"));
        Map<String, Module> trainable = method.trainable();
        TrainingPlacement.place(method, device, observerFactory != null);
        ParameterSlab slab = ParameterSlab.pack(new org.stablekd.nn.ModuleGroup(trainable));
        Sgd sgd = new Sgd(slab, o.momentum(), o.weightDecay(), o.nesterov());
        StepObserver observer = observerFactory == null ? null : observerFactory.apply(slab);
        List<Module> stateModules = new ArrayList<>(trainable.values());
        if (!stateModules.contains(method.model())) stateModules.add(method.model());   // Module keeps identity equality
        int startEpoch = 0;
        double bestTop1 = -1;
        int bestEpoch = -1;
        if (leader && o.resume() && Files.exists(ckpt)) {   // rank 0 reads the checkpoint; the others get its state below
            Checkpoint.Meta meta = Checkpoint.load(ckpt, method.model().name(), trainable,
                    Map.of("momentum", sgd.momentumBuffer()), Map.of());
            startEpoch = meta.nextEpoch();
            bestTop1 = Double.parseDouble(meta.extra().getOrDefault("best_top1", "-1"));
            bestEpoch = Integer.parseInt(meta.extra().getOrDefault("best_epoch", "-1"));
            metrics.truncateFrom(startEpoch + 1);
            if (startEpoch >= o.epochs()) {
                log.printf("%s in %s already finished its %d epochs; nothing to train%n", method.model().name(), o.outDir(), o.epochs());
            } else {
                log.printf("resuming %s from %s at epoch %d/%d%n", method.model().name(), ckpt, startEpoch + 1, o.epochs());
            }
        } else if (leader && Files.exists(metrics.file())) {
            Files.delete(metrics.file());   // a fresh run in an old folder starts a fresh log
        }
        double lastTop1 = Double.NaN;
        if (leader && startEpoch > 0 && Files.exists(metrics.file())) {   // a finished run resumed reports its last logged epoch
            var recs = MetricsLog.read(metrics.file());
            if (!recs.isEmpty() && recs.getLast().get("test_top1") instanceof Number t) lastTop1 = t.doubleValue();
        }
        GradientReducer reducer = null;
        if (comm.isDistributed()) {
            if (dp.syncBatchNorm() && !device.isHost()) {
                throw new IllegalArgumentException("--sync-bn has kernels for the CPU only (no " + device + " kernel for SYNC_BATCH_NORM yet); use --device cpu or drop --sync-bn");
            }
            // every rank continues from rank 0's state: weights, momentum, BatchNorm statistics, position
            double[] at = DataParallel.leaderValues(comm, new double[] {startEpoch, bestTop1, bestEpoch, lastTop1});
            startEpoch = (int) at[0];
            bestTop1 = at[1];
            bestEpoch = (int) at[2];
            lastTop1 = at[3];
            List<Tensor> state = new ArrayList<>(List.of(slab.values(), sgd.momentumBuffer()));
            state.addAll(DataParallel.buffers(stateModules));
            DataParallel.broadcastFromLeader(comm, state);
            boolean thread = DataParallel.communicationThread(comm, dp, device.isHost());
            reducer = new GradientReducer(comm, slab, dp.bucketFloats(), thread);
            int synced = 0;
            if (dp.syncBatchNorm()) for (Module m : stateModules) synced += SyncBatchNorm.enable(m, comm);
            log.printf("data-parallel over %d ranks (%s): %d images per rank per step, %d gradient bucket(s) of %.1f MB in all%s%s%s%n",
                    comm.size(), comm.name(), o.batchSize() / comm.size(), reducer.buckets(), reducer.bytesPerStep() / 1e6,
                    thread ? ", all-reduced during backward" : ", all-reduced after backward",
                    dp.syncBatchNorm() ? ", BatchNorm over the global batch (" + synced + " layers)" : ", BatchNorm per rank",
                    dp.checkEvery() > 0 ? ", parameters compared every " + dp.checkEvery() + " steps" : "");
        }
        long trainImages = 0;
        double trainSeconds = 0;
        long wall0 = System.nanoTime();
        LoaderOptions trainOpts = LoaderOptions.batchSize(o.batchSize()).shuffle(true).dropLast(false).seed(o.seed()).workers(o.workers())
                .shard(comm.rank(), comm.size());
        LoaderOptions testOpts = LoaderOptions.batchSize(o.evalBatchSize()).shuffle(false).seed(o.seed()).workers(o.workers());
        // evaluation: each rank takes a contiguous part of the set, the sums are reduced
        Dataset testPart = test.shard(comm.rank(), comm.size());
        Dataset valPart = validation == null ? null : validation.shard(comm.rank(), comm.size());
        try (Loader trainLoader = new Loader(train, trainTf, trainOpts); Loader testLoader = new Loader(testPart, testTf, testOpts);
             Loader valLoader = valPart == null ? null : new Loader(valPart, testTf, testOpts);
             GradientReducer closeReducer = reducer; DeviceBatches batches = new DeviceBatches(device);
             Restore syncOff = () -> stateModules.forEach(SyncBatchNorm::disable)) {   // the modules leave as ordinary BatchNorm
            int steps = trainLoader.batchesPerEpoch();
            double waitBefore = 0;
            for (int epoch = startEpoch; epoch < o.epochs(); epoch++) {
                method.startEpoch(epoch);
                if (method.resetsMomentum(epoch)) sgd.resetMomentum();
                sgd.freeze(parameters(method.frozen(epoch)));
                method.model().train(true);
                for (Module m : trainable.values()) m.train(true);
                EpochStats st = new EpochStats();
                long t0 = System.nanoTime();
                try (ProgressBar bar = leader ? progress(epoch, train.size()) : null) {
                    int i = 0;
                    for (Batch b : trainLoader.startEpoch(epoch)) {
                        double lr = method.learningRate(o.schedule(), epoch, (double) i / steps);
                        try (b; Scope s = Scope.open()) {
                            DeviceBatches.Placed xy = batches.place(b);
                            TrainingMethod.Step step = method.step(xy.images(), xy.labels(), epoch, (long) epoch * steps + i);
                            Tensor total = null;
                            for (Tensor l : step.losses().values()) total = total == null ? l : Pointwise.add(total, l);
                            StepNumbers nums = StepNumbers.of(total, step, xy.labels(), b, comm);   // over all ranks; the step's one download
                            double loss = nums.loss();
                            if (!Double.isFinite(loss)) {
                                throw new TrainingDivergedException(String.format(
                                        "the loss became %s at epoch %d, step %d of %d (lr %.4g, losses %s); %s — lower --lr or check the data",
                                        loss, epoch + 1, i + 1, steps, lr, nums.describe(),
                                        Files.exists(ckpt) ? "the last good checkpoint is " + ckpt + " (resume with --resume)" : "no epoch had finished, so there is no checkpoint"));
                            }
                            if (reducer == null) {
                                Autograd.backward(total);
                            } else {
                                // this rank's share of the global batch: the summed gradients are those of the global mean loss
                                Tensor share = Tensor.emptyLike(total);
                                Memory.fill(share, (double) b.size() / b.globalSize());
                                Autograd.backward(total, share, reducer.listener());
                                reducer.finish();
                            }
                            if (observer != null) observer.afterBackward();
                            sgd.step(lr);
                            sgd.zeroGrad();
                            long globalStep = (long) epoch * steps + i + 1;
                            if (dp.checkEvery() > 0 && globalStep % dp.checkEvery() == 0) DataParallel.checkIdentical(comm, slab.values(), globalStep);
                            st.add(nums);
                        }
                        i++;
                        if (bar != null) {
                            bar.stepBy(b.globalSize());
                            bar.setExtraMessage(String.format(" loss %.4f acc %.2f%% lr %.3g", st.loss(), st.top1(), lr));
                        }
                    }
                }
                double epochSeconds = (System.nanoTime() - t0) / 1e9;
                trainImages += st.images;
                trainSeconds += epochSeconds;
                // BatchNorm statistics of the model's own forward, where the method asks (the
                // weights files and the checkpoint then carry them): evaluated before and after
                int recalibrate = method.bnRecalibrationBatches(epoch);
                Evaluator.Result asTrained = null;
                BatchNormRecalibration.Result recal = null;
                // one model: the ranks' BatchNorm statistics averaged (synchronized ones are equal already)
                if (!dp.syncBatchNorm()) DataParallel.averageBuffers(comm, stateModules);
                if (recalibrate > 0) {
                    asTrained = Evaluator.evaluate(method.model(), testLoader, epoch, comm, batches);
                    recal = BatchNormRecalibration.run(method.model(), trainLoader.startEpoch(epoch), recalibrate, batches);
                    if (!dp.syncBatchNorm()) DataParallel.averageBuffers(comm, stateModules);
                }
                Evaluator.Result ev = Evaluator.evaluate(method.model(), testLoader, epoch, comm, batches);
                Evaluator.Result val = valLoader == null ? null : Evaluator.evaluate(method.model(), valLoader, epoch, comm, batches);
                lastTop1 = ev.top1();
                double chooser = val != null ? val.top1() : ev.top1();   // "best" is judged on validation when there is one
                boolean best = chooser > bestTop1;
                if (best) {
                    bestTop1 = chooser;
                    bestEpoch = epoch + 1;
                }
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("epoch", epoch + 1);
                rec.put("method", method.name());
                rec.put("lr", method.learningRate(o.schedule(), epoch, 0));
                rec.putAll(method.epochInfo(epoch));
                rec.put("train_loss", st.loss());
                st.lossSums.forEach((k, v) -> rec.put("train_" + k, v / st.images));
                rec.put(method.trainAccuracyKey(epoch), st.top1());
                if (recal != null) rec.put("train_top1_end_to_end", recal.top1());
                rec.put("bn_stats", recal == null ? "running" : "recalibrated");
                rec.put("test_loss", ev.loss());
                rec.put("test_top1", ev.top1());
                rec.put("test_top5", ev.top5());
                if (val != null) {
                    rec.put("val_loss", val.loss());
                    rec.put("val_top1", val.top1());
                }
                if (asTrained != null) {
                    rec.put("bn_recalibration_batches", recal.batches());
                    rec.put("test_loss_running_bn", asTrained.loss());
                    rec.put("test_top1_running_bn", asTrained.top1());
                }
                rec.put("train_images_per_s", st.images / epochSeconds);
                rec.put("epoch_seconds", epochSeconds);
                rec.put("eval_seconds", ev.seconds() + (asTrained == null ? 0 : asTrained.seconds()) + (val == null ? 0 : val.seconds()));
                rec.put("wall_seconds", (System.nanoTime() - wall0) / 1e9);
                if (observer != null) rec.putAll(observer.epochMetrics());
                if (reducer != null) {
                    rec.put("ranks", comm.size());
                    rec.put("allreduce_wait_seconds", reducer.waitSeconds() - waitBefore);
                    waitBefore = reducer.waitSeconds();
                }
                if (leader) metrics.append(rec);
                String trainAcc = method.trainAccuracyKey(epoch).equals("train_top1") ? "top1" : method.trainAccuracyKey(epoch).substring(6);
                log.printf("epoch %d/%d  train loss %.4f %s %.2f%%  test loss %.4f top1 %.2f%% top5 %.2f%%%s%s  %.0f img/s  %.0fs%s%n",
                        epoch + 1, o.epochs(), st.loss(), trainAcc, st.top1(), ev.loss(), ev.top1(), ev.top5(),
                        val == null ? "" : String.format("  val top1 %.2f%%", val.top1()),
                        asTrained == null ? "" : String.format(" (BN recalibrated; as trained %.2f%%)", asTrained.top1()),
                        st.images / epochSeconds, epochSeconds, best ? "  (best)" : "");
                if (!leader) continue;   // rank 0 alone writes
                // weights first, then the checkpoint that says this epoch is done
                Map<String, Tensor> weights = Transfers.toHost(method.model().stateDict());   // downloaded from a device
                Safetensors.write(o.outDir().resolve("weights.safetensors"), weights, weightsMeta(method));
                if (best) Safetensors.write(o.outDir().resolve("best.safetensors"), weights, weightsMeta(method));
                Map<String, String> extra = new LinkedHashMap<>(o.runInfo());
                extra.putAll(method.checkpointMetadata());
                extra.put("best_top1", Double.toString(bestTop1));
                extra.put("best_on", validation != null ? "validation" : "test");
                extra.put("best_epoch", Integer.toString(bestEpoch));
                Checkpoint.save(ckpt, trainable, Map.of("momentum", sgd.momentumBuffer()),
                        new Checkpoint.Meta(method.model().name(), epoch + 1, extra), Map.of());
            }
        }
        double wall = (System.nanoTime() - wall0) / 1e9;
        return new Result(o.epochs(), lastTop1, bestTop1, bestEpoch, trainSeconds > 0 ? trainImages / trainSeconds : 0, wall);
    }

    /** Every parameter of {@code modules}, by identity. */
    private static java.util.Set<org.stablekd.nn.Parameter> parameters(java.util.Collection<Module> modules) {
        java.util.Set<org.stablekd.nn.Parameter> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Module m : modules) out.addAll(m.namedParameters().values());
        return out;
    }

    private Map<String, String> weightsMeta(TrainingMethod method) {
        Map<String, String> md = new LinkedHashMap<>(o.runInfo());
        md.put("model", method.model().name());
        md.put("classes", Integer.toString(method.model().numClasses()));
        md.put("input", method.model().inputShape().toString());
        return md;
    }

    /** A live bar on a terminal; in a log (no console), one line every 30 s instead of a redraw. */
    private ProgressBar progress(int epoch, int images) {
        if (!o.progressBar()) return null;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(String.format("epoch %d/%d", epoch + 1, o.epochs()))
                .setInitialMax(images).setUnit(" img", 1).showSpeed().setStyle(ProgressBarStyle.ASCII).setMaxRenderedLength(110);
        if (System.console() != null) return b.setUpdateIntervalMillis(500).continuousUpdate().build();
        return b.setUpdateIntervalMillis(30_000).setConsumer(new DelegatingProgressBarConsumer(log::println, 110)).build();
    }

    /** Running sums over an epoch (over all ranks). */
    private static final class EpochStats {
        double lossSum;
        long hits, images;
        final Map<String, Double> lossSums = new LinkedHashMap<>();

        void add(StepNumbers n) {
            lossSum += n.lossSum();
            hits += n.hits();
            images += n.images();
            if (n.partSums().size() > 1) n.partSums().forEach((k, v) -> lossSums.merge(k, v, Double::sum));
        }

        double loss() { return images == 0 ? 0 : lossSum / images; }
        double top1() { return images == 0 ? 0 : 100.0 * hits / images; }
    }
}

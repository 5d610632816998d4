package org.stablekd.train;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
import org.stablekd.io.Safetensors;
import org.stablekd.nn.Module;
import org.stablekd.nn.ParameterSlab;
import org.stablekd.ops.Pointwise;
import org.stablekd.optim.LrSchedule;
import org.stablekd.optim.Sgd;
import org.stablekd.tensor.Device;
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
    private Device device = Device.CPU;

    public Trainer(Options options, PrintStream log) {
        this.o = options;
        this.log = log;
    }

    /**
     * Trains on {@code device} (default: the CPU): the method's modules, the parameter slab and the
     * optimizer state move there, batches are uploaded ({@link DeviceBatches}), evaluation runs
     * there, and a step downloads only its loss scalars (see {@link TrainingPlacement}).
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
        Files.createDirectories(o.outDir());
        Path ckpt = o.outDir().resolve("checkpoint.safetensors");
        MetricsLog metrics = new MetricsLog(o.outDir().resolve("metrics.jsonl"));
        Map<String, Module> trainable = method.trainable();
        TrainingPlacement.place(method, device, observerFactory != null);
        ParameterSlab slab = ParameterSlab.pack(new org.stablekd.nn.ModuleGroup(trainable));
        Sgd sgd = new Sgd(slab, o.momentum(), o.weightDecay(), o.nesterov());
        StepObserver observer = observerFactory == null ? null : observerFactory.apply(slab);
        int startEpoch = 0;
        double bestTop1 = -1;
        int bestEpoch = -1;
        if (o.resume() && Files.exists(ckpt)) {
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
        } else if (Files.exists(metrics.file())) {
            Files.delete(metrics.file());   // a fresh run in an old folder starts a fresh log
        }
        double lastTop1 = Double.NaN;
        if (startEpoch > 0 && Files.exists(metrics.file())) {   // a finished run resumed reports its last logged epoch
            var recs = MetricsLog.read(metrics.file());
            if (!recs.isEmpty() && recs.getLast().get("test_top1") instanceof Number t) lastTop1 = t.doubleValue();
        }
        long trainImages = 0;
        double trainSeconds = 0;
        long wall0 = System.nanoTime();
        LoaderOptions trainOpts = LoaderOptions.batchSize(o.batchSize()).shuffle(true).dropLast(false).seed(o.seed()).workers(o.workers());
        LoaderOptions testOpts = LoaderOptions.batchSize(o.evalBatchSize()).shuffle(false).seed(o.seed()).workers(o.workers());
        HitCounter hits = new HitCounter(device);
        try (Loader trainLoader = new Loader(train, trainTf, trainOpts); Loader testLoader = new Loader(test, testTf, testOpts);
             Loader valLoader = validation == null ? null : new Loader(validation, testTf, testOpts);
             DeviceBatches batches = new DeviceBatches(device)) {
            int steps = trainLoader.batchesPerEpoch();
            for (int epoch = startEpoch; epoch < o.epochs(); epoch++) {
                method.startEpoch(epoch);
                if (method.resetsMomentum(epoch)) sgd.resetMomentum();
                sgd.freeze(parameters(method.frozen(epoch)));
                method.model().train(true);
                for (Module m : trainable.values()) m.train(true);
                EpochStats st = new EpochStats();
                hits.reset();
                long t0 = System.nanoTime();
                try (ProgressBar bar = progress(epoch, train.size())) {
                    int i = 0;
                    for (Batch b : trainLoader.startEpoch(epoch)) {
                        double lr = method.learningRate(o.schedule(), epoch, (double) i / steps);
                        try (b; Scope s = Scope.open()) {
                            DeviceBatches.Placed xy = batches.place(b);
                            TrainingMethod.Step step = method.step(xy.images(), xy.labels(), epoch, (long) epoch * steps + i);
                            Tensor total = null;
                            for (Tensor l : step.losses().values()) total = total == null ? l : Pointwise.add(total, l);
                            double loss = Transfers.toHost(total).item();   // the step's one download (more with several losses)
                            if (!Double.isFinite(loss)) {
                                throw new TrainingDivergedException(String.format(
                                        "the loss became %s at epoch %d, step %d of %d (lr %.4g, losses %s); %s — lower --lr or check the data",
                                        loss, epoch + 1, i + 1, steps, lr, describe(step.losses()),
                                        Files.exists(ckpt) ? "the last good checkpoint is " + ckpt + " (resume with --resume)" : "no epoch had finished, so there is no checkpoint"));
                            }
                            Autograd.backward(total);
                            if (observer != null) observer.afterBackward();
                            sgd.step(lr);
                            sgd.zeroGrad();
                            hits.add(step.logits(), xy.labels());
                            st.add(loss, b.size(), step.losses());
                        }
                        i++;
                        // on a device the bar's accuracy is refreshed every 25 steps (one small download)
                        if (bar != null && (device.isHost() || i % 25 == 0)) st.hits = hits.read();
                        if (bar != null) {
                            bar.stepBy(b.size());
                            bar.setExtraMessage(String.format(" loss %.4f acc %.2f%% lr %.3g", st.loss(), st.top1(), lr));
                        }
                    }
                }
                st.hits = hits.read();
                double epochSeconds = (System.nanoTime() - t0) / 1e9;
                trainImages += st.images;
                trainSeconds += epochSeconds;
                // BatchNorm statistics of the model's own forward, where the method asks (the
                // weights files and the checkpoint then carry them): evaluated before and after
                int recalibrate = method.bnRecalibrationBatches(epoch);
                Evaluator.Result asTrained = null;
                BatchNormRecalibration.Result recal = null;
                if (recalibrate > 0) {
                    asTrained = Evaluator.evaluate(method.model(), testLoader, epoch, batches);
                    recal = BatchNormRecalibration.run(method.model(), trainLoader.startEpoch(epoch), recalibrate, batches);
                }
                Evaluator.Result ev = Evaluator.evaluate(method.model(), testLoader, epoch, batches);
                Evaluator.Result val = valLoader == null ? null : Evaluator.evaluate(method.model(), valLoader, epoch, batches);
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
                metrics.append(rec);
                String trainAcc = method.trainAccuracyKey(epoch).equals("train_top1") ? "top1" : method.trainAccuracyKey(epoch).substring(6);
                log.printf("epoch %d/%d  train loss %.4f %s %.2f%%  test loss %.4f top1 %.2f%% top5 %.2f%%%s%s  %.0f img/s  %.0fs%s%n",
                        epoch + 1, o.epochs(), st.loss(), trainAcc, st.top1(), ev.loss(), ev.top1(), ev.top5(),
                        val == null ? "" : String.format("  val top1 %.2f%%", val.top1()),
                        asTrained == null ? "" : String.format(" (BN recalibrated; as trained %.2f%%)", asTrained.top1()),
                        st.images / epochSeconds, epochSeconds, best ? "  (best)" : "");
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

    private static String describe(Map<String, Tensor> losses) {
        StringBuilder sb = new StringBuilder();
        losses.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(Transfers.toHost(v).item()));
        return sb.toString();
    }

    /** Running sums over an epoch. */
    private static final class EpochStats {
        double lossSum;
        long hits, images;
        final Map<String, Double> lossSums = new LinkedHashMap<>();

        /** Hits are counted on the device (HitCounter) and set from it. */
        void add(double loss, int n, Map<String, Tensor> parts) {
            lossSum += loss * n;
            images += n;
            if (parts.size() > 1) parts.forEach((k, v) -> lossSums.merge(k, Transfers.toHost(v).item() * n, Double::sum));
        }

        double loss() { return images == 0 ? 0 : lossSum / images; }
        double top1() { return images == 0 ? 0 : 100.0 * hits / images; }
    }
}

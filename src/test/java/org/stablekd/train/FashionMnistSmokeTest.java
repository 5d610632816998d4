package org.stablekd.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.data.Dataset;
import org.stablekd.models.Zoo;
import org.stablekd.nn.Model;
import org.stablekd.optim.LrSchedule;
import org.stablekd.tensor.Rng;

/**
 * Real data, end to end: resnet8 on 10 % of Fashion-MNIST for one epoch, the learning rate
 * cosine-annealed to 0 over it (62.3–63.1 % test top-1 at 1, 2 and 3 threads, with and without
 * Winograd, 2026-12-05; the bar is 40 %, chance is 10 %) through the same path as
 * 'stablekd train' must beat chance by far. Runs where the Debian package is installed
 * (.ci/run installs it); skipped with a message elsewhere.
 */
class FashionMnistSmokeTest {
    @Test
    void resnet8LearnsFashionMnistInOneShortEpoch(@TempDir Path out) throws Exception {
        Path dir = Path.of(DataSpec.FASHION_DIR);
        Assumptions.assumeTrue(Files.exists(dir.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist); skipping the real-data smoke test");
        DataSpec d = DataSpec.load("fashion-mnist", null, 2);
        Dataset train = d.train().subset(0.1, 1);
        Dataset test = d.test().subset(0.1, 1);
        Model m = Zoo.create("resnet8", d.numClasses(), d.input(), new Rng(1));
        Trainer.Options o = new Trainer.Options(1, 64, new LrSchedule.Cosine(0.05, 0, 1), 0.9, 5e-4, false, 1, out, false, 1, 256, false,
                java.util.Map.of());
        Trainer.Result r = new Trainer(o, new PrintStream(OutputStream.nullOutputStream())).fit(new Supervised(m, 0), train, d.trainTransform(), test, d.testTransform());
        assertTrue(r.lastTop1() > 40, "resnet8 after 6000 Fashion-MNIST images: test top-1 " + r.lastTop1() + " % (chance is 10 %)");
    }
}

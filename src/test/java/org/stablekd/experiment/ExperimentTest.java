package org.stablekd.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.distill.MethodSpec;
import org.stablekd.distill.Methods;
import org.stablekd.distill.StableKD;
import org.stablekd.distill.ToyNet;
import org.stablekd.tensor.Rng;

class ExperimentTest {

    private static Experiment parse(Path dir, String yaml) throws Exception {
        Path f = dir.resolve("e.yaml");
        Files.writeString(f, yaml);
        return Experiment.load(f);
    }

    @Test
    void theShippedStudyFileParses() throws Exception {
        Experiment e = Experiment.load(Path.of("docs/experiments/fashion-resnet20-resnet8.yaml"));
        assertEquals("resnet20", e.teacher());
        assertEquals("resnet8", e.student());
        assertEquals(List.of("kd", "stablekd", "ce", "dkd", "fitnets", "stablekd_cut3", "stablekd_114"), e.methods().stream().map(MethodSpec::label).toList());
        assertEquals(6, e.epochs());
        assertEquals(50, e.iboeWindow());
    }

    /** Every shipped experiment file parses and builds every method on its zoo models (random weights, nothing trained). */
    @Test
    void everyShippedExperimentBuildsItsMethods() throws Exception {
        List<Path> files;
        try (var s = Files.list(Path.of("docs/experiments"))) {
            files = s.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 6, "experiment files: " + files);
        for (Path f : files) {
            Experiment e = Experiment.load(f);
            var shape = org.stablekd.tensor.Shape.of(1, 32, 32);
            var teacher = org.stablekd.models.Zoo.create(e.teacher(), 10, shape, new Rng(1));
            var student = org.stablekd.models.Zoo.create(e.student(), 10, shape, new Rng(2));
            for (MethodSpec m : e.methods()) {   // building a method leaves the models as they were, so they are shared
                var method = Methods.create(m, teacher, student, e.epochs(), e.lr(), e.augment(), e.seed(), new Rng(3),
                        new PrintStream(OutputStream.nullOutputStream()));
                assertEquals(student, method.model(), f + ": " + m.label());
            }
        }
    }

    @Test
    void parsesMethodsWithLabelsAndParameters(@TempDir Path dir) throws Exception {
        Experiment e = parse(dir, """
                student: resnet8
                teacher: {model: resnet20, weights: w.safetensors}
                epochs: 6
                optimizer: {lr: 0.1, schedule: cosine}
                methods:
                  - kd
                  - {method: kd, label: kd-t2, tau: 2}
                  - {method: stablekd, stage_epochs: [2, 2, 2], connectors: true}
                """);
        assertEquals(0.1, e.lr().base());
        assertEquals("cosine", e.lr().kind());
        assertEquals(2.0, e.method("kd-t2").num("tau", 4));
        ToyNet t = new ToyNet("t", 8, 1), s = new ToyNet("s", 4, 2);
        StableKD m = (StableKD) Methods.create(e.method("stablekd"), t, s, 6, e.lr(), new Rng(1), new PrintStream(OutputStream.nullOutputStream()));
        assertArrayEquals(new int[] {2, 2, 2}, m.plan().stageEpochs());
        assertTrue(m.plan().connectors());
    }

    @Test
    void seedsGiveEachRunItsOwnFolderAndAValidationHoldOutIsParsed(@TempDir Path dir) throws Exception {
        Experiment one = parse(dir, "student: resnet8\nseed: 4\nout: o\nmethods: [kd]\n");
        assertEquals(List.of(4L), one.runSeeds());
        assertEquals(Path.of("o", "kd"), one.runDir("kd", 4));
        assertEquals(0, one.validation());
        Experiment three = parse(dir, "student: resnet8\nseeds: [0, 1, 2]\nvalidation: 5000\nout: o\nmethods: [kd]\n");
        assertEquals(List.of(0L, 1L, 2L), three.runSeeds());
        assertEquals(Path.of("o", "kd", "seed-2"), three.runDir("kd", 2));
        assertEquals(5000, three.validation());
        var dup = assertThrows(IllegalArgumentException.class, () -> parse(dir, "student: resnet8\nseeds: [1, 1]\nmethods: [kd]\n"));
        assertTrue(dup.getMessage().contains("'seeds' lists 1 twice"), dup.getMessage());
        var notList = assertThrows(IllegalArgumentException.class, () -> parse(dir, "student: resnet8\nseeds: 3\nmethods: [kd]\n"));
        assertTrue(notList.getMessage().contains("'seeds' must be a non-empty list"), notList.getMessage());
    }

    @Test
    void everyMistakeIsOneSentenceNamingTheFileAndKey(@TempDir Path dir) throws Exception {
        var unknown = assertThrows(IllegalArgumentException.class, () -> parse(dir, "student: resnet8\nepoch: 3\nmethods: [kd]\n"));
        assertTrue(unknown.getMessage().contains("e.yaml: unknown key 'epoch' at top level"), unknown.getMessage());
        var yaml = assertThrows(IllegalArgumentException.class, () -> parse(dir, "student: [resnet8\n"));
        assertTrue(yaml.getMessage().contains("not valid YAML"), yaml.getMessage());
        Experiment e = parse(dir, "student: resnet8\nepochs: 6\nmethods:\n  - {method: kd, temperature: 2}\n  - {method: stablekd, stage_epochs: [1, 1]}\n");
        ToyNet t = new ToyNet("t", 4, 1), s = new ToyNet("s", 4, 2);
        var param = assertThrows(IllegalArgumentException.class, () -> Methods.create(e.method("kd"), t, s, 6, e.lr(), new Rng(1), null));
        assertTrue(param.getMessage().contains("has no parameter 'temperature'"), param.getMessage());
        var epochs = assertThrows(IllegalArgumentException.class, () -> Methods.create(e.method("stablekd"), t, s, 6, e.lr(), new Rng(1), null));
        assertTrue(epochs.getMessage().contains("stage_epochs [1, 1] sum to 2 but the experiment has 6 epochs"), epochs.getMessage());
        var noTeacher = assertThrows(IllegalArgumentException.class, () -> Methods.create(e.method("kd"), null, s, 6, e.lr(), new Rng(1), null));
        assertTrue(noTeacher.getMessage().contains("needs a teacher"), noTeacher.getMessage());
    }
}

package org.stablekd.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeedReportTest {

    /** Three epochs with the given test and validation top-1 per epoch, and a made-up block SNR. */
    private static List<Map<String, Object>> run(String method, double[] test, double[] val, double snr) {
        List<Map<String, Object>> recs = new ArrayList<>();
        for (int e = 0; e < test.length; e++) {
            Map<String, Object> r = FakeRuns.base(e + 1, method, test[e], 1.0 / (e + 1), 500, 60.0 * (e + 1));
            if (val != null) r.put("val_top1", val[e]);
            r.put("iboe_snr_b1", snr * (e + 1));
            recs.add(r);
        }
        return recs;
    }

    @Test
    void meansStdsEpochsToTargetAndTheValidationChoice(@TempDir Path tmp) throws IOException {
        // final test top-1 of kd over seeds: 90, 91, 92 → 91 ± 1 (sample std)
        List<RunRef> kd = List.of(
                new RunRef("kd · seed 0", FakeRuns.write(tmp.resolve("kd/seed-0"), run("kd", new double[] {80, 85, 90}, new double[] {79, 86, 85}, 1))),
                new RunRef("kd · seed 1", FakeRuns.write(tmp.resolve("kd/seed-1"), run("kd", new double[] {81, 88, 91}, new double[] {80, 84, 90}, 2))),
                new RunRef("kd · seed 2", FakeRuns.write(tmp.resolve("kd/seed-2"), run("kd", new double[] {82, 91, 92}, new double[] {81, 92, 91}, 3))));
        // a seed that stopped after one epoch does not count
        List<RunRef> skd = List.of(
                new RunRef("skd · seed 0", FakeRuns.write(tmp.resolve("skd/seed-0"), run("stablekd", new double[] {70, 80, 89}, new double[] {71, 81, 88}, 10))),
                new RunRef("skd · seed 1", FakeRuns.write(tmp.resolve("skd/seed-1"), run("stablekd", new double[] {60}, new double[] {61}, 10))));
        Map<String, List<RunRef>> groups = new LinkedHashMap<>();
        groups.put("kd", kd);
        groups.put("skd", skd);
        Path out = tmp.resolve("r/report.html");
        HtmlReport.Result res = HtmlReport.write(out, "seeds", List.of(kd.get(0), skd.get(0)), groups, HtmlReport.Options.defaults().withTarget(88));

        Map<String, List<RunMetrics>> loaded = new LinkedHashMap<>();
        for (var g : groups.entrySet()) {
            List<RunMetrics> ms = new ArrayList<>();
            for (RunRef r : g.getValue()) ms.add(RunMetrics.load(r));
            loaded.put(g.getKey(), ms);
        }
        List<SeedSummary> rows = SeedReport.summarize(loaded, 88);
        SeedSummary k = rows.get(0), s = rows.get(1);
        assertEquals(3, k.seeds().size());
        assertEquals(91, k.last().mean(), 1e-12);
        assertEquals(1, k.last().std(), 1e-12);
        // test at the best-validation epoch: seed 0 epoch 2 (85), seed 1 epoch 3 (91), seed 2 epoch 2 (91)
        assertEquals((85 + 91 + 91) / 3.0, k.atBestVal().mean(), 1e-12);
        assertEquals(List.of(3, 2, 2), k.epochsToTarget());   // 88 is reached at epoch 2 by seed 1
        assertArrayEquals(new double[] {81, 88, 91}, k.epochMean(), 1e-12);
        assertEquals(3, k.epochStd()[1], 1e-12);   // 85, 88, 91
        assertEquals(1, s.seeds().size(), "the unfinished seed is left out");
        assertEquals("89.00 %", s.last().percent());
        assertEquals("91.00 ± 1.00 %", k.last().percent());
        assertEquals("3 · 2 · 2", k.epochsToTargetText());
        // mean SNR over seeds of kd's block b1 at epoch 2: (2 + 4 + 6) / 3
        assertEquals(4, SeedReport.meanOverSeeds(loaded.get("kd"), "iboe_snr_b1", "b1").y().get(1), 1e-12);

        String md = Files.readString(tmp.resolve("r/report-seeds.md"));
        assertTrue(md.contains("| kd | 3 | 91.00 ± 1.00 % | 89.00 ± 3.46 % |"), md);
        String html = Files.readString(out);
        assertTrue(html.contains("<h2>Across seeds</h2>") && html.contains("91.00 ± 1.00 %"), "the table is in the page");
        List<String> charts = res.charts().stream().map(p -> p.getFileName().toString()).toList();
        assertTrue(charts.containsAll(List.of("report-top1-seeds.png", "report-snr-seeds-kd.png", "report-snr-seeds-skd.png")), charts.toString());
        assertTrue(ImageIO.read(tmp.resolve("r/report-top1-seeds.png").toFile()).getWidth() > 0);
    }

    @Test
    void statIsNanFreeAndHonestAboutCounts() {
        SeedSummary.Stat none = SeedSummary.Stat.of(List.of(Double.NaN));
        assertEquals(0, none.n());
        assertEquals(Format.NONE, none.percent());
        SeedSummary.Stat one = SeedSummary.Stat.of(List.of(70.0, Double.NaN));
        assertEquals(1, one.n());
        assertEquals(0, one.std());
    }
}

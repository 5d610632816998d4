package org.stablekd.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunMetricsTest {

    @Test
    void findsLossTermsBlocksAndStages(@TempDir Path tmp) throws IOException {
        RunMetrics m = RunMetrics.load(new RunRef("skd", FakeRuns.write(tmp, FakeRuns.stableKd(3))));
        assertEquals(List.of("b1.mse", "b2.mse", "b3.mse", "b4.ce", "b4.kd", "b1-2.mse", "b3-4.ce", "b3-4.kd", "b1-4.ce", "b1-4.kd"), m.lossTerms());
        assertEquals(List.of("b1", "b2", "b3", "b4"), m.iboeBlocks("snr"));
        assertEquals(List.of(new RunMetrics.Stage(1, 1, 3, "[b1, b2, b3, b4]"), new RunMetrics.Stage(2, 4, 6, "[b1-2, b3-4]"),
                new RunMetrics.Stage(3, 7, 9, "[b1-4]")), m.stages());
        assertEquals("stablekd", m.lastString("method"));
        Charts.Series s = m.series("train_b1-2.mse", "x");
        assertEquals(List.of(4.0, 5.0, 6.0), s.x(), "a term exists only in its stage");
    }

    @Test
    void readsNumbersWrittenAsStringsAndSkipsNonFinitePoints(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("metrics.jsonl"), """
                {"epoch": 1, "test_top1": 10.5, "iboe_snr_b10": 1, "iboe_snr_b2": "NaN"}
                {"epoch": 2, "test_top1": "NaN"}

                {"epoch": 3, "test_top1": NaN, "iboe_snr_b1": 2}
                {"epoch": 4, "test_top1": "30"}
                """);
        RunMetrics m = RunMetrics.load(new RunRef("r", tmp));
        assertTrue(m.problems().isEmpty(), m.problems().toString());
        Charts.Series s = m.series("test_top1", "t");
        assertEquals(List.of(1.0, 4.0), s.x());
        assertEquals(List.of(10.5, 30.0), s.y());
        assertEquals(List.of("b1", "b2", "b10"), m.iboeBlocks("snr"));
        assertTrue(m.stages().isEmpty());
        assertTrue(m.lossTerms().isEmpty());
    }

    @Test
    void naturalOrder() {
        List<String> v = new ArrayList<>(List.of("b10", "b1-2", "b2", "b1", "b1-10", "a", "b01"));
        v.sort(RunMetrics.NATURAL);
        assertEquals(List.of("a", "b01", "b1", "b1-2", "b1-10", "b2", "b10"), v);
    }

    @Test
    void summaryNumbers() {
        List<Map<String, Object>> recs = new ArrayList<>();
        double[] top1 = {20, 55, 61, 61, 58};
        double[] wall = {10, 20, 5, 15, 25};            // resumed after epoch 2: 20 + 25
        double[] rate = {100, 300, 200, 400, 1000};
        for (int e = 0; e < 5; e++) {
            Map<String, Object> r = FakeRuns.base(e + 1, "kd", top1[e], 1.0, rate[e], wall[e]);
            recs.add(r);
        }
        RunSummary s = RunSummary.of(new RunMetrics(new RunRef("x", Path.of(".")), recs, List.of()), 60);
        assertEquals(5, s.epochs());
        assertEquals(58, s.lastTop1());
        assertEquals(61, s.bestTop1());
        assertEquals(3, s.bestEpoch(), "the first epoch that reached the best");
        assertEquals(3, s.epochsToTarget());
        assertEquals(45, s.wallSeconds());
        assertEquals(300, s.imagesPerSecond(), "median");
        assertEquals(-1, RunSummary.of(new RunMetrics(new RunRef("x", Path.of(".")), recs, List.of()), 61.5).epochsToTarget());
        assertEquals(-1, RunSummary.of(new RunMetrics(new RunRef("x", Path.of(".")), recs, List.of()), Double.NaN).epochsToTarget());
        assertEquals(2.5, RunSummary.median(List.of(4.0, 1.0, 2.0, 3.0)));
    }

    @Test
    void formats() {
        assertEquals("71.23 %", Format.percent(71.234));
        assertEquals("—", Format.percent(Double.NaN));
        assertEquals("8.3 s", Format.duration(8.26));
        assertEquals("12 min 05 s", Format.duration(725));
        assertEquals("3 h 07 min", Format.duration(3 * 3600 + 7 * 60 + 10));
        assertEquals("1,234", Format.rate(1234.4));
        assertEquals("2.3 MiB", Format.bytes(2_400_000));
        assertEquals("&lt;a href=&quot;x&quot;&gt; &amp; &#39;", Format.html("<a href=\"x\"> & '"));
    }
}

package org.stablekd.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.stablekd.io.Safetensors;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

class HtmlReportTest {
    private static final Pattern DATA_URI = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");

    /** Every embedded chart, decoded. */
    private static List<BufferedImage> embeddedImages(String html) throws IOException {
        List<BufferedImage> out = new ArrayList<>();
        Matcher m = DATA_URI.matcher(html);
        while (m.find()) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
            assertNotNull(img, "an embedded chart is not a decodable PNG");
            out.add(img);
        }
        return out;
    }

    private static String row(String html, String label) {
        int at = html.indexOf("<tr><td>" + label + "</td>");
        assertTrue(at >= 0, "no table row for " + label);
        return html.substring(at, html.indexOf("</tr>", at));
    }

    @Test
    void comparisonOfThreeRuns(@TempDir Path tmp) throws IOException {
        Path ce = FakeRuns.write(tmp.resolve("ce"), FakeRuns.supervised(12));
        Path kd = FakeRuns.write(tmp.resolve("kd"), FakeRuns.kd(12));
        Path skd = FakeRuns.write(tmp.resolve("skd"), FakeRuns.stableKd(4));
        Files.write(skd.resolve("weights.safetensors"), new byte[0]);   // unreadable: noted, not fatal
        Safetensors.write(kd.resolve("weights.safetensors"), Map.of("fc.bias", Tensor.zeros(DType.F32, 3)),
                Map.of("model", "resnet20", "seed", "<7>"));
        Path out = tmp.resolve("docs/compare.html");

        HtmlReport.Result res = HtmlReport.write(out, "resnet56 → resnet20 <test>", List.of(new RunRef("CE", ce), new RunRef("KD", kd),
                new RunRef("StableKD", skd)), HtmlReport.Options.defaults().withTarget(50).withNotes("First paragraph & more.\n\nSecond.")
                .withCommands("stablekd train --method kd"));
        String html = Files.readString(out, StandardCharsets.UTF_8);

        // self-contained: nothing fetched, no script
        assertFalse(html.contains("http://") || html.contains("https://") || html.contains("<script") || html.contains("<link"), "external resource");
        assertTrue(html.contains("<title>resnet56 → resnet20 &lt;test&gt;</title>"));
        assertTrue(html.contains("<p>First paragraph &amp; more.</p>") && html.contains("<p>Second.</p>"));
        assertTrue(html.contains("<pre>stablekd train --method kd</pre>"));

        // charts: top-1, loss, terms of KD and StableKD, SNR and cosine of KD and StableKD
        List<String> names = res.charts().stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("compare-top1.png", "compare-train-loss.png", "compare-terms-kd.png", "compare-terms-stablekd.png",
                "compare-snr-kd.png", "compare-snr-stablekd.png", "compare-cos-kd.png", "compare-cos-stablekd.png"), names);
        List<BufferedImage> images = embeddedImages(html);
        assertEquals(names.size(), images.size());
        for (int i = 0; i < names.size(); i++) {
            Path png = tmp.resolve("docs").resolve(names.get(i));
            BufferedImage onDisk = ImageIO.read(png.toFile());
            assertNotNull(onDisk, png + " is not a PNG");
            assertEquals(onDisk.getWidth(), images.get(i).getWidth());
            assertTrue(html.contains("<a href=\"" + names.get(i) + "\">PNG</a>"));
        }

        // the summary table, with numbers computed from the records
        for (String label : List.of("CE", "KD", "StableKD")) {
            Path dir = tmp.resolve(label.equals("CE") ? "ce" : label.equals("KD") ? "kd" : "skd");
            RunSummary s = RunSummary.of(RunMetrics.load(new RunRef(label, dir)), 50);
            String r = row(html, label);
            assertTrue(r.contains(">" + Format.percent(s.lastTop1()) + "<"), r);
            assertTrue(r.contains(">" + Format.percent(s.bestTop1()) + " (" + s.bestEpoch() + ")<"), r);
            assertTrue(r.contains(">" + s.epochsToTarget() + "<"), r);
            assertTrue(r.contains(">" + Format.duration(s.wallSeconds()) + "<"), r);
            assertTrue(r.contains(">" + Format.rate(s.imagesPerSecond()) + "<"), r);
            assertTrue(r.contains(">12<"), "12 epochs: " + r);
        }
        assertTrue(row(html, "StableKD").contains("<td>stablekd</td>"));
        assertTrue(html.contains("epochs to 50.00 %"));
        assertTrue(html.contains("best test top-1 (epoch)"));
        assertTrue(html.contains("<th class=\"num\">T. stddev</th>"));
        assertTrue(row(html, "KD").contains(">0.00450<"), "KD's last t_stddev, epoch 12: 0.0045 + 0.0001·(12 mod 3)");
        assertTrue(row(html, "CE").endsWith("<td class=\"num\">—</td>"), "no t_stddev logged: a dash");

        // per-run details: files, stages; the bad weights file is a listed problem
        assertTrue(html.contains("<code>metrics.jsonl</code>"));
        assertTrue(html.contains("<td>[b1-2, b3-4]</td>"));
        assertTrue(html.contains("<tr><td>model</td><td><code>resnet20</code></td></tr>") && html.contains("<code>&lt;7&gt;</code>"),
                "the metadata saved with the weights");
        assertEquals(1, res.problems().size(), res.problems().toString());
        assertTrue(res.problems().getFirst().contains("weights.safetensors"));
        assertTrue(html.contains("Problems reading the runs"));
    }

    @Test
    void oneRunWithoutOptionalKeys(@TempDir Path tmp) throws IOException {
        Path ce = FakeRuns.write(tmp.resolve("ce"), FakeRuns.supervised(5));
        HtmlReport.Result res = HtmlReport.write(tmp.resolve("one.html"), "CE", List.of(new RunRef("CE", ce)), HtmlReport.Options.defaults());
        String html = Files.readString(res.html());
        assertEquals(List.of("one-top1.png", "one-train-loss.png"), res.charts().stream().map(p -> p.getFileName().toString()).toList());
        assertFalse(html.contains("Gradient noise") || html.contains("Loss terms") || html.contains("epochs to "), "sections without data are left out");
        assertEquals(2, embeddedImages(html).size());
        assertTrue(res.problems().isEmpty());
    }

    @Test
    void toleratesAHalfWrittenLineAndAnEmptyRunAndReachesNoTarget(@TempDir Path tmp) throws IOException {
        Path kd = FakeRuns.write(tmp.resolve("kd"), FakeRuns.kd(6));
        Files.writeString(kd.resolve("metrics.jsonl"), "{\"epoch\": 7, \"test_to", java.nio.file.StandardOpenOption.APPEND);
        Path empty = Files.createDirectories(tmp.resolve("fresh"));
        Files.writeString(empty.resolve("metrics.jsonl"), "");
        HtmlReport.Result res = HtmlReport.write(tmp.resolve("r.html"), "partial", List.of(new RunRef("KD", kd), new RunRef("fresh", empty)),
                HtmlReport.Options.defaults().withTarget(99.5));
        String html = Files.readString(res.html());
        assertTrue(res.problems().stream().anyMatch(p -> p.contains("line 7")), res.problems().toString());
        assertTrue(res.problems().stream().anyMatch(p -> p.contains("'fresh' has no epochs")), res.problems().toString());
        String kdRow = row(html, "KD"), freshRow = row(html, "fresh");
        assertTrue(kdRow.contains(">6<"), kdRow);
        assertTrue(kdRow.split("—").length - 1 == 1, "only the target column is empty: " + kdRow);
        assertTrue(freshRow.split("—").length - 1 >= 6, "an empty run is all dashes: " + freshRow);
        assertFalse(embeddedImages(html).isEmpty());
    }

    @Test
    void aFolderWithoutMetricsIsAnError(@TempDir Path tmp) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HtmlReport.write(tmp.resolve("x.html"), "x", List.of(new RunRef("nothing", tmp.resolve("nowhere"))), HtmlReport.Options.defaults()));
        assertTrue(e.getMessage().contains("nowhere") && e.getMessage().contains("metrics.jsonl"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HtmlReport.write(tmp.resolve("x.html"), "x", List.of(), HtmlReport.Options.defaults()));
    }

    @Test
    void labelsBecomeDistinctFileNames() {
        java.util.Set<String> taken = new java.util.HashSet<>();
        assertEquals("kd-4", HtmlReport.slug("KD (τ=4)", taken));
        assertEquals("stablekd", HtmlReport.slug("StableKD", taken));
        assertEquals("stablekd-2", HtmlReport.slug("stablekd!", taken));
        assertEquals("run", HtmlReport.slug("★", taken));
        assertEquals("report", HtmlReport.baseName(Path.of("a/report.html")));
    }

    @Test
    void runRefParsesLabelEqualsFolder() {
        assertEquals(new RunRef("KD", Path.of("runs/kd")), RunRef.parse("KD=runs/kd"));
        assertEquals("kd", RunRef.parse("runs/kd").label());
        assertThrows(IllegalArgumentException.class, () -> new RunRef(" ", Path.of("x")));
    }
}

package org.stablekd.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ChartsTest {

    private static BufferedImage decode(byte[] png) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(img);
        return img;
    }

    @Test
    void plotWithBandsAndReferenceLines() throws IOException {
        Charts.Series a = new Charts.Series("a", List.of(1.0, 2.0, 3.0, 4.0), List.of(1.0, 0.5, 0.2, 0.1));
        byte[] png = Charts.plot("t", "epoch", "loss").series(List.of(a, a.withColor(3))).logY(true)
                .band(0.5, 2.5, true, "stage 1: [b1, b2]", "stage 1", "1").band(2.5, 4.5, false, "stage 2")
                .verticalLine(2.5, null).horizontalLine(0.3, "target").png();
        BufferedImage img = decode(png);
        assertEquals(820, img.getWidth());
        assertEquals(460, img.getHeight());
    }

    @Test
    void leavesOutPointsItCannotDraw() throws IOException {
        Charts.Series s = new Charts.Series("s", List.of(1.0, 2.0, 3.0, 4.0), List.of(0.0, -1.0, Double.NaN, 2.0));
        assertTrue(Charts.plot("t", "x", "y").series(List.of(s)).logY(true).hasData());
        decode(Charts.plot("t", "x", "y").series(List.of(s)).logY(true).png());
        Charts.Series none = new Charts.Series("n", List.of(1.0), List.of(-1.0));
        assertFalse(Charts.plot("t", "x", "y").series(List.of(none)).logY(true).hasData());
        assertThrows(IllegalArgumentException.class, () -> Charts.plot("t", "x", "y").series(List.of(none)).logY(true).png());
        assertThrows(IllegalArgumentException.class, () -> new Charts.Series("bad", List.of(1.0), List.of()));
    }

    @Test
    void manySeriesMoveTheLegendToTheRight() throws IOException {
        List<Charts.Series> many = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) many.add(new Charts.Series("term " + i, List.of(1.0, 2.0), List.of(1.0 + i, 2.0 + i)));
        assertEquals(820 + 140, decode(Charts.line("t", "x", "y", many, false)).getWidth());
    }
}

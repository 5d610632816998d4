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

/** Charts render to PNG; the pixel checks below read exact colours, which the renderer draws unblended at line and fill centres. */
class ChartsTest {
    private static final List<Double> X5 = List.of(1.0, 2.0, 3.0, 4.0, 5.0);
    private static final Charts.Series ZIGZAG = new Charts.Series("a", X5, List.of(1.0, 3.0, 2.0, 5.0, 4.0)).withColor(1);
    private static final int SHADE = 0xf1f1f1;        // Charts' band fill, 14/255 black over the white plot
    private static final int REFERENCE = 0x666666;    // Charts' dashed reference lines
    private static final int AXIS = 0x828282;         // XChart's axis lines and tick marks

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
    /** The series' palette colour runs across the plot (not only in the legend's sample); no other palette colour appears. */
    @Test
    void aSeriesIsDrawnAcrossThePlotInItsColour() throws IOException {
        BufferedImage img = decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).png());
        int red = rgb(Charts.color(1)), columns = columnsWith(img, red);
        assertTrue(columns > 500, "the line from x=1 to x=5 covers " + columns + " of 820 columns in its colour (the legend sample ~30)");
        assertEquals(0, count(img, rgb(Charts.color(0))), "no pixel in the first auto colour");
        assertEquals(0, count(img, rgb(Charts.color(2))), "no pixel in another palette colour");

        // Without an explicit colour the first series takes palette colour 0.
        BufferedImage auto = decode(Charts.plot("t", "x", "y").series(List.of(new Charts.Series("a", ZIGZAG.x(), ZIGZAG.y()))).png());
        assertTrue(columnsWith(auto, rgb(Charts.color(0))) > 500, "auto colour 0 across the plot");
    }

    @Test
    void differentSeriesGiveDifferentImagesAndTheSameSeriesTheSameImage() throws IOException {
        BufferedImage a = decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).png());
        assertTrue(samePixels(a, decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).png())), "rendering is deterministic");
        Charts.Series otherY = new Charts.Series("a", X5, List.of(1.0, 2.0, 3.0, 4.0, 5.0)).withColor(1);
        assertFalse(samePixels(a, decode(Charts.plot("t", "x", "y").series(List.of(otherY)).png())), "other y values");
        assertFalse(samePixels(a, decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG.withColor(2))).png())), "other colour");
        BufferedImage two = decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG, otherY.withColor(2))).png());
        assertTrue(columnsWith(two, rgb(Charts.color(1))) > 300 && columnsWith(two, rgb(Charts.color(2))) > 300, "both series drawn");
    }

    /** A shaded band fills its x range (twice the range, twice the area); an unshaded one fills nothing. */
    @Test
    void bandsShadeTheirXRange() throws IOException {
        int none = count(decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).png()), SHADE);
        int narrow = count(decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).band(1.5, 2.5, true).png()), SHADE);
        int wide = count(decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).band(1.5, 3.5, true).png()), SHADE);
        int unshaded = count(decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).band(1.5, 3.5, false).png()), SHADE);
        assertTrue(none < 100 && unshaded < 100, "no shade without a shaded band: " + none + ", " + unshaded + " pixels");
        assertTrue(wide > 80_000, "a band over half the x range shades " + wide + " pixels");
        assertEquals(0.5, (double) narrow / wide, 0.05, "x 1.5..2.5 shades half of what 1.5..3.5 shades");
    }

    /** A band draws the first label that fits its width, and none when none fits. */
    @Test
    void bandLabelsAreDrawnWhenTheyFit() throws IOException {
        java.util.function.Function<String[], BufferedImage> band = labels -> {
            try {
                return decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).band(1.5, 1.7, true, labels).png());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        String tooLong = "a label far too long for this band";
        BufferedImage unlabelled = band.apply(new String[0]);
        assertFalse(samePixels(unlabelled, band.apply(new String[] {"s1"})), "the short label is drawn");
        assertTrue(samePixels(band.apply(new String[] {"s1"}), band.apply(new String[] {tooLong, "s1"})), "the first label that fits");
        assertTrue(samePixels(unlabelled, band.apply(new String[] {tooLong})), "no label fits: none drawn");
    }

    /** Dashed reference lines: a horizontal one along a row, a vertical one down a column. */
    @Test
    void referenceLinesAreDrawnDashed() throws IOException {
        BufferedImage plain = decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).png());
        BufferedImage h = decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).horizontalLine(2.5, null).png());
        BufferedImage v = decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).verticalLine(4.5, null).png());
        assertTrue(maxInRow(plain, REFERENCE) < 50 && maxInColumn(plain, REFERENCE) < 50, "no reference colour line without one");
        int hr = maxInRow(h, REFERENCE), vc = maxInColumn(v, REFERENCE);
        // Dashes of 5 px every 9 px over the plot's ~720×350 px.
        assertTrue(hr > 250 && hr < 600, "the horizontal line's row holds " + hr + " dash pixels");
        assertTrue(vc > 120 && vc < 300, "the vertical line's column holds " + vc + " dash pixels");
        assertFalse(samePixels(h, decode(Charts.plot("t", "x", "y").series(List.of(ZIGZAG)).horizontalLine(2.5, "target").png())),
                "the label is drawn");
    }

    /** On a log axis, points at y ≤ 0 or NaN are left out: the image is exactly that of the drawable points alone. */
    @Test
    void logYLeavesOutTheNonPositiveAndNaNPoints() throws IOException {
        Charts.Series raw = new Charts.Series("l", X5, List.of(1.0, -1.0, 10.0, Double.NaN, 100.0));
        Charts.Series drawable = new Charts.Series("l", List.of(1.0, 3.0, 5.0), List.of(1.0, 10.0, 100.0));
        BufferedImage withGaps = decode(Charts.plot("t", "x", "y").series(List.of(raw)).logY(true).png());
        BufferedImage clean = decode(Charts.plot("t", "x", "y").series(List.of(drawable)).logY(true).png());
        assertTrue(columnsWith(clean, rgb(Charts.color(0))) > 500, "the drawable points are joined across the plot");
        assertTrue(samePixels(clean, withGaps), "the −1 and NaN points leave no trace");
        // A zero at the end would stretch the x axis if it were kept.
        Charts.Series zeroLast = new Charts.Series("l", List.of(1.0, 3.0, 5.0, 9.0), List.of(1.0, 10.0, 100.0, 0.0));
        assertTrue(samePixels(clean, decode(Charts.plot("t", "x", "y").series(List.of(zeroLast)).logY(true).png())), "y = 0 left out");
    }

    /** A flat series (zero y range) still gets both axes and its line; an empty series beside it changes nothing. */
    @Test
    void flatAndEmptySeriesStillDrawAxesAndLine() throws IOException {
        Charts.Series flat = new Charts.Series("f", List.of(1.0, 2.0, 3.0), List.of(2.0, 2.0, 2.0));
        BufferedImage img = decode(Charts.plot("t", "x", "y").series(List.of(flat)).png());
        assertTrue(maxInColumn(img, AXIS) > 300, "a y axis line (" + maxInColumn(img, AXIS) + " px in one column)");
        assertTrue(maxInRow(img, AXIS) > 600, "an x axis line (" + maxInRow(img, AXIS) + " px in one row)");
        assertTrue(maxInRow(img, rgb(Charts.color(0))) > 600, "the flat line along one row");
        Charts.Series empty = new Charts.Series("e", List.of(), List.of());
        assertTrue(samePixels(img, decode(Charts.plot("t", "x", "y").series(List.of(empty, flat)).png())), "the empty series is left out");
    }

    private static int rgb(java.awt.Color c) {
        return c.getRGB() & 0xffffff;
    }

    private static int count(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
        return n;
    }

    private static int columnsWith(BufferedImage img, int rgb) {
        int n = 0;
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                if ((img.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                    break;
                }
            }
        }
        return n;
    }

    private static int maxInRow(BufferedImage img, int rgb) {
        int best = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            int n = 0;
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
            best = Math.max(best, n);
        }
        return best;
    }

    private static int maxInColumn(BufferedImage img, int rgb) {
        int best = 0;
        for (int x = 0; x < img.getWidth(); x++) {
            int n = 0;
            for (int y = 0; y < img.getHeight(); y++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
            best = Math.max(best, n);
        }
        return best;
    }

    private static boolean samePixels(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) return false;
        for (int y = 0; y < a.getHeight(); y++) for (int x = 0; x < a.getWidth(); x++) if (a.getRGB(x, y) != b.getRGB(x, y)) return false;
        return true;
    }
}

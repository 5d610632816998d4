package org.stablekd.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import org.knowm.xchart.internal.chartpart.Annotation;

/**
 * Marks drawn over a chart's plot area in data coordinates: a vertical or horizontal line with a
 * small label, and a shaded band between two x values (a training stage). XChart's own
 * AnnotationLine takes one style for all lines; these carry their own.
 */
final class ChartMarks {
    private ChartMarks() {}

    static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    static final Color LABEL_COLOR = new Color(0x55, 0x55, 0x55);

    /** A dashed line across the plot at x (vertical) or y (horizontal). */
    static final class Line extends Annotation {
        private final double value;
        private final boolean vertical;
        private final String label;
        private final Color color;

        Line(double value, boolean vertical, String label, Color color) {
            super(false);
            this.value = value;
            this.vertical = vertical;
            this.label = label;
            this.color = color;
        }

        @Override
        public void paint(Graphics2D g) {
            g.setColor(color);
            g.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f));
            int top = getYAxisScreenValueForMax(), bottom = getYAxisScreenValueForMin();
            int left = getXAxisScreenValueForMin(), right = getXAxisScreenValueForMax();
            g.setFont(LABEL_FONT);
            FontMetrics fm = g.getFontMetrics();
            if (vertical) {
                int x = getXAxisScreenValue(value);
                g.drawLine(x, top, x, bottom);
                if (label != null) text(g, fm, label, x + 3, top + fm.getAscent() + 2);
            } else {
                int y = getYAxisScreenValue(value);
                g.drawLine(left, y, right, y);
                if (label != null) text(g, fm, label, right - fm.stringWidth(label) - 6, y - 5);
            }
        }
    }

    /** A label on a white patch, readable over the lines it crosses. */
    static void text(Graphics2D g, FontMetrics fm, String label, int x, int baseline) {
        g.setColor(new Color(255, 255, 255, 220));
        g.fillRect(x - 2, baseline - fm.getAscent(), fm.stringWidth(label) + 4, fm.getAscent() + fm.getDescent());
        g.setColor(LABEL_COLOR);
        g.drawString(label, x, baseline);
    }

    /** A lightly shaded band x0..x1 with a label at its top: the first of the labels that fits, if any. */
    static final class Band extends Annotation {
        private final double x0, x1;
        private final String[] labels;
        private final Color fill;

        Band(double x0, double x1, Color fill, String... labels) {
            super(false);
            this.x0 = x0;
            this.x1 = x1;
            this.labels = labels;
            this.fill = fill;
        }

        @Override
        public void paint(Graphics2D g) {
            int top = getYAxisScreenValueForMax(), bottom = getYAxisScreenValueForMin();
            int left = Math.max(getXAxisScreenValue(x0), getXAxisScreenValueForMin());
            int right = Math.min(getXAxisScreenValue(x1), getXAxisScreenValueForMax());
            if (right <= left) return;
            if (fill != null) {
                g.setColor(fill);
                g.fillRect(left, Math.min(top, bottom), right - left, Math.abs(bottom - top));
            }
            g.setFont(LABEL_FONT);
            FontMetrics fm = g.getFontMetrics();
            for (String label : labels) {
                if (label != null && fm.stringWidth(label) + 8 <= right - left) {
                    g.setColor(LABEL_COLOR);
                    g.drawString(label, left + 4, Math.min(top, bottom) + fm.getAscent() + 2);
                    break;
                }
            }
        }
    }
}

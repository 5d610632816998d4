package org.stablekd.backend;

/**
 * The sizes of one MobileNetV2 inverted-residual block at inference, checked once by the op
 * frontend ({@code Conv.invertedResidual}): x (n, c, h, w) → 1×1 expand to m channels →
 * depthwise 3×3, stride 1 or 2, padding 1 → 1×1 project to k channels → y (n, k, p, q), plus x
 * when {@code residual} (stride 1 and c = k).
 */
public record InvertedResidualGeometry(int n, int c, int h, int w, int m, int k, int stride, boolean residual) {

    public InvertedResidualGeometry {
        if (stride != 1 && stride != 2) throw new IllegalArgumentException("an inverted-residual block has stride 1 or 2, not " + stride);
        if (residual && (stride != 1 || c != k)) throw new IllegalArgumentException("a residual block needs stride 1 and as many output channels as input (" + c + " → " + k + ")");
    }

    /** Output height and width: 3×3, padding 1. */
    public int p() { return (h - 1) / stride + 1; }
    public int q() { return (w - 1) / stride + 1; }

    /** The three convolutions' geometries (expand, depthwise, project), for the unfused path. */
    public ConvGeometry expand() { return ConvGeometry.of(n, c, h, w, m, 1, 1, 1, 1, 0, 0, 1); }
    public ConvGeometry depthwise() { return ConvGeometry.of(n, m, h, w, m, 3, 3, stride, stride, 1, 1, m); }
    public ConvGeometry project() { return ConvGeometry.of(n, m, p(), q(), k, 1, 1, 1, 1, 0, 0, 1); }

    /** Multiply-adds of the three convolutions. */
    public long macs() { return expand().macs() + depthwise().macs() + project().macs(); }
}

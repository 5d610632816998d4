package org.stablekd.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Decodes one JPEG/PNG file (javax.imageio) into uint8 (3, crop, crop): the shorter side is resized
 * to {@code shorterSide} (antialiased bilinear, the longer side to {@code int(shorterSide · long /
 * short)} as torchvision's {@code Resize(int)}), then the center {@code crop × crop} is kept
 * ({@code CenterCrop}). Grayscale images are repeated into 3 channels; alpha is dropped (as PIL's
 * {@code convert("RGB")}). Stateless and thread-safe.
 */
public final class ImageFileDecoder {
    private final int shorterSide;
    private final int crop;

    public ImageFileDecoder(int shorterSide, int crop) {
        if (crop <= 0 || shorterSide < crop) {
            throw new IllegalArgumentException("image folder: need 0 < crop <= shorter side, got shorter side " + shorterSide + " and crop " + crop);
        }
        this.shorterSide = shorterSide;
        this.crop = crop;
    }

    public ImageShape shape() {
        return new ImageShape(3, crop, crop);
    }

    /** Decodes {@code file} into {@code dst[offset, offset + 3·crop·crop)}. */
    public void decode(Path file, byte[] dst, int offset) throws DatasetFormatException {
        BufferedImage img;
        try {
            img = ImageIO.read(file.toFile());
        } catch (Exception e) { // IIOException, and the odd RuntimeException from a decoder on damaged data
            throw new DatasetFormatException(file + ": cannot be decoded as an image (" + e.getMessage() + "); the file is damaged or in an unsupported variant (e.g. CMYK JPEG)", e);
        }
        if (img == null) {
            throw new DatasetFormatException(file + ": cannot be decoded as an image (no javax.imageio reader recognises it); is it really a JPEG/PNG?");
        }
        int w = img.getWidth(), h = img.getHeight();
        float[] planes = rgbPlanes(img);
        // Resized size, torchvision Resize(int): the shorter side becomes shorterSide.
        int newW, newH;
        if (w <= h) {
            newW = shorterSide;
            newH = (int) ((long) shorterSide * h / w);
        } else {
            newH = shorterSide;
            newW = (int) ((long) shorterSide * w / h);
        }
        int top = (int) Math.rint((newH - crop) / 2.0); // CenterCrop rounds half to even (Python round)
        int left = (int) Math.rint((newW - crop) / 2.0);
        Resample.Taps ty = Resample.taps(0, h, h, newH, top, crop);
        Resample.Taps tx = Resample.taps(0, w, w, newW, left, crop);
        float[] tmp = new float[3 * (ty.highest() - ty.lowest()) * crop];
        float[] out = new float[3 * crop * crop];
        Resample.apply(planes, 3, h, w, ty, tx, tmp, out);
        for (int i = 0; i < out.length; i++) {
            dst[offset + i] = (byte) Math.min(255, Math.max(0, Math.round(out[i])));
        }
    }

    /** (3, h, w) floats in 0..255. */
    private static float[] rgbPlanes(BufferedImage img) {
        int w = img.getWidth(), h = img.getHeight(), plane = w * h;
        float[] p = new float[3 * plane];
        Raster raster = img.getRaster();
        if (img.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY) {
            // Read gray samples directly: Java2D's conversion of linear gray to sRGB would brighten them.
            int bits = raster.getSampleModel().getSampleSize(0);
            float scale = bits == 8 ? 1f : 255f / ((1 << bits) - 1);
            int[] s = raster.getSamples(0, 0, w, h, 0, new int[plane]);
            for (int i = 0; i < plane; i++) {
                float v = bits == 8 ? s[i] : Math.round(s[i] * scale);
                p[i] = v;
                p[plane + i] = v;
                p[2 * plane + i] = v;
            }
        } else if (img.getType() == BufferedImage.TYPE_3BYTE_BGR) {
            byte[] bgr = ((DataBufferByte) raster.getDataBuffer()).getData(); // the usual JPEG result: B, G, R per pixel
            for (int i = 0; i < plane; i++) {
                p[i] = bgr[3 * i + 2] & 0xFF;
                p[plane + i] = bgr[3 * i + 1] & 0xFF;
                p[2 * plane + i] = bgr[3 * i] & 0xFF;
            }
        } else {
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w); // converts any color model to sRGB
            for (int i = 0; i < plane; i++) {
                p[i] = (argb[i] >> 16) & 0xFF;
                p[plane + i] = (argb[i] >> 8) & 0xFF;
                p[2 * plane + i] = argb[i] & 0xFF;
            }
        }
        return p;
    }
}

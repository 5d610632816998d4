package org.stablekd.distill.augment;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Tensor;

/** Argument checks and raw access shared by the augmentations (host tensors only). */
final class HostBatch {
    private HostBatch() {}

    /** Throws unless images are (B, C, H, W) F32 and labels (B) I32, both on the host, B ≥ 1. */
    static void check(Tensor images, Tensor labels) {
        if (images == null || labels == null) throw new IllegalArgumentException("augmentation: images and labels must not be null");
        if (images.rank() != 4 || images.dtype() != DType.F32) {
            throw new IllegalArgumentException("augmentation: images must be (B,C,H,W) F32, got " + images.dtype() + " " + images.shape());
        }
        if (labels.rank() != 1 || labels.dtype() != DType.I32 || labels.dim(0) != images.dim(0)) {
            throw new IllegalArgumentException("augmentation: labels must be (B) I32 with B = " + images.dim(0) + ", got "
                    + labels.dtype() + " " + labels.shape());
        }
        if (!images.device().isHost() || !labels.device().isHost()) {
            throw new IllegalArgumentException("augmentation: the batch is on " + images.device()
                    + "; augment on the host, before the batch moves to the accelerator");
        }
        if (images.dim(0) < 1) throw new IllegalArgumentException("augmentation: empty batch");
    }

    /** The images as one contiguous F32 segment (the tensor's own memory when it is contiguous, else a copy). */
    static MemorySegment floats(Tensor images) {
        if (images.isContiguous()) {
            return images.segment().asSlice(images.offset() * 4, images.numel() * 4);
        }
        return MemorySegment.ofArray(images.toFloatArray());
    }

    /** Copies image {@code from} of {@code src} to image {@code to} of {@code dst} ({@code per} floats each). */
    static void copyImage(MemorySegment src, int from, MemorySegment dst, int to, long per) {
        MemorySegment.copy(src, from * per * 4, dst, to * per * 4, per * 4);
    }

    /** A new contiguous F32 tensor of {@code images}' shape; its segment. */
    static Tensor like(Tensor images) {
        return Tensor.empty(DType.F32, images.shape());
    }

    static MemorySegment segmentOf(Tensor contiguous) {
        return contiguous.segment().asSlice(contiguous.offset() * 4, contiguous.numel() * 4);
    }

    static float get(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
    }

    /** labels[partner[i]] for every i, as a new (B) I32 tensor. */
    static Tensor gather(int[] labels, int[] partner) {
        int[] out = new int[partner.length];
        for (int i = 0; i < partner.length; i++) out[i] = labels[partner[i]];
        return Tensor.ofInts(out, out.length);
    }
}

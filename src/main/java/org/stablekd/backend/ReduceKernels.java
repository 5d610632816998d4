package org.stablekd.backend;

import org.stablekd.tensor.Tensor;

/** Reductions over contiguous tensors. */
public interface ReduceKernels {
    /** out (one element) = Σ x. */
    void sum(Tensor x, Tensor out);

    /** out (cols) = Σ over rows of x (rows, cols): linear-layer bias gradients. */
    void sumRows(Tensor x, Tensor out);

    /**
     * out (2, F32) = {top-1 hits, top-k hits} of contiguous logits (rows, cols) against I32 labels
     * (rows), ranked as {@link TopK#rank}. Host memory: counted here (ref, cpu, and the CPU
     * kernels behind sim); CUDA counts on the GPU.
     */
    default void topkHits(Tensor logits, Tensor labels, int k, Tensor out) {
        int rows = logits.dim(0), cols = logits.dim(1);
        var l = logits.segment();
        var y = labels.segment();
        long lo = logits.offset(), yo = labels.offset();
        float[] row = new float[cols];
        int top1 = 0, topk = 0;
        for (int i = 0; i < rows; i++) {
            java.lang.foreign.MemorySegment.copy(l, java.lang.foreign.ValueLayout.JAVA_FLOAT, (lo + (long) i * cols) * 4, row, 0, cols);
            int rank = TopK.rank(row, 0, cols, y.getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, yo + i));
            if (rank == 0) top1++;
            if (rank < k) topk++;
        }
        out.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, out.offset(), top1);
        out.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, out.offset() + 1, topk);
    }
}

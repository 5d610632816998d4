package org.stablekd.backend.cuda;

import java.util.Locale;

/**
 * Every kernel of src/main/cuda, by the file that defines it and its parameter list, so the Java
 * launchers and the CUDA sources cannot drift apart: {@code KernelSourcesTest} parses each
 * {@code extern "C" __global__} signature and checks it against this table, without a GPU, and
 * {@link KernelArgs} checks every launch against it at run time.
 *
 * <p>Signature tokens: {@code ptr} (a device pointer, 8 bytes), {@code i32}, {@code i64},
 * {@code f32}, {@code f64}, {@code layout} (copy.cu's StridedLayout, passed by value).
 * The symbol is the constant's name in lower case.
 */
enum Kernel {
    // elementwise.cu
    RELU_FORWARD_F32("elementwise.cu", "ptr ptr i64"),
    RELU6_FORWARD_F32("elementwise.cu", "ptr ptr i64"),
    SCALE_F32("elementwise.cu", "ptr ptr i64 f32"),
    ADD_SCALAR_F32("elementwise.cu", "ptr ptr i64 f32"),
    ADD_F32("elementwise.cu", "ptr ptr ptr i64"),
    SUB_F32("elementwise.cu", "ptr ptr ptr i64"),
    MUL_F32("elementwise.cu", "ptr ptr ptr i64"),
    ADD_RELU_F32("elementwise.cu", "ptr ptr ptr i64"),
    RELU_BACKWARD_F32("elementwise.cu", "ptr ptr ptr i64"),
    RELU6_BACKWARD_F32("elementwise.cu", "ptr ptr ptr i64"),
    AXPY_F32("elementwise.cu", "ptr f32 ptr ptr i64"),
    FILL_FROM_SCALAR_F32("elementwise.cu", "ptr f32 ptr i64"),
    MSE_BACKWARD_F32("elementwise.cu", "ptr ptr ptr f32 ptr ptr i64"),
    BN_APPLY_RELU_F32("elementwise.cu", "ptr ptr ptr ptr ptr ptr i32 i32 i64"),
    BN_EVAL_RELU_F32("elementwise.cu", "ptr ptr ptr ptr ptr ptr i32 i32 i64 f32"),
    // copy.cu
    COPY_STRIDED_B2("copy.cu", "ptr ptr layout i64"),
    COPY_STRIDED_B4("copy.cu", "ptr ptr layout i64"),
    COPY_STRIDED_B8("copy.cu", "ptr ptr layout i64"),
    // reduce.cu
    SUM_PARTIALS_F32("reduce.cu", "ptr i64 ptr"),
    SUM_SQ_DIFF_PARTIALS_F32("reduce.cu", "ptr ptr i64 ptr"),
    SUM_FINAL_F32("reduce.cu", "ptr i32 f64 ptr"),
    SUM_ROWS_FINAL_F32("reduce.cu", "ptr i32 f64 ptr"),
    SUM_ROWS_F32("reduce.cu", "ptr i32 i32 ptr"),
    TOPK_HITS_F32("reduce.cu", "ptr ptr i32 i32 i32 ptr"),
    // softmax.cu
    SOFTMAX_FORWARD_F32("softmax.cu", "ptr ptr i32 f32 i32"),
    SOFTMAX_BACKWARD_F32("softmax.cu", "ptr ptr ptr i32 f32 i32"),
    CROSS_ENTROPY_ROWS_F32("softmax.cu", "ptr ptr ptr i32 f32"),
    CROSS_ENTROPY_BACKWARD_F32("softmax.cu", "ptr ptr ptr ptr i32 f32 f32"),
    // kd_loss.cu
    KD_LOSS_ROWS_F32("kd_loss.cu", "ptr ptr ptr i32 f32"),
    KD_LOSS_BACKWARD_F32("kd_loss.cu", "ptr ptr ptr ptr ptr i32 f32 f32"),
    KD_CE_FUSED_F32("kd_loss.cu", "ptr ptr ptr ptr ptr ptr i32 f32 f32 f32 f32"),
    // dkd_loss.cu
    DKD_LOSS_ROWS_F32("dkd_loss.cu", "ptr ptr ptr ptr i32 f32 f32 f32"),
    DKD_LOSS_BACKWARD_F32("dkd_loss.cu", "ptr ptr ptr ptr ptr i32 f32 f32 f32 f32"),
    // batchnorm.cu
    BATCHNORM_STATS_F32("batchnorm.cu", "ptr i32 i32 i32 f32 f32 ptr ptr ptr ptr"),
    BATCHNORM_APPLY_F32("batchnorm.cu", "ptr ptr ptr ptr ptr ptr i32 i32 i64"),
    BATCHNORM_EVAL_F32("batchnorm.cu", "ptr ptr ptr ptr ptr ptr i32 i32 i64 f32"),
    BATCHNORM_BACKWARD_REDUCE_F32("batchnorm.cu", "ptr ptr ptr ptr ptr ptr ptr i32 i32 i32"),
    BATCHNORM_BACKWARD_DX_F32("batchnorm.cu", "ptr ptr ptr ptr ptr ptr ptr ptr ptr i32 i32 i64 f32 i32"),
    // pool.cu
    MAX_POOL_FORWARD_F32("pool.cu", "ptr ptr ptr i64 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32"),
    MAX_POOL_BACKWARD_F32("pool.cu", "ptr ptr ptr i64 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32"),
    AVG_POOL_FORWARD_F32("pool.cu", "ptr ptr i64 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32"),
    AVG_POOL_BACKWARD_F32("pool.cu", "ptr ptr i64 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32"),
    GLOBAL_AVG_POOL_FORWARD_F32("pool.cu", "ptr ptr i64 i32"),
    GLOBAL_AVG_POOL_BACKWARD_F32("pool.cu", "ptr ptr i64 i32"),
    // sgd.cu
    SGD_STEP_F32("sgd.cu", "ptr ptr ptr i64 f32 f32 f32 i32"),
    // attention.cu
    ATTENTION_MAP_FORWARD_F32("attention.cu", "ptr ptr ptr i32 i32 f32"),
    ATTENTION_MAP_DQ_F32("attention.cu", "ptr ptr ptr i32 f32"),
    ATTENTION_MAP_BACKWARD_F32("attention.cu", "ptr ptr ptr i32 i32 i64");

    final String file;
    final String signature;

    Kernel(String file, String signature) {
        this.file = file;
        this.signature = signature;
    }

    /** The C symbol (extern "C", so unmangled). */
    String symbol() {
        return name().toLowerCase(Locale.ROOT);
    }
}

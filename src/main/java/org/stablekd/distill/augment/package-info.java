/**
 * Batch-level data augmentation for distillation, after Wang, Lohit, Jones, Fu, "What Makes a
 * 'Good' Data Augmentation in Knowledge Distillation — A Statistical Perspective" (NeurIPS 2022,
 * arXiv 2012.02909; code github.com/MingSun-Tse/Good-DA-in-KD).
 *
 * <ul>
 * <li>{@link org.stablekd.distill.augment.BatchAugment}: what a distillation method calls once per
 *     step on the already-normalized batch; returns a {@link org.stablekd.distill.augment.Mixed}
 *     (images, the two label sets, λ per sample, and the teacher's logits when they were computed).
 *     {@link org.stablekd.distill.augment.BatchAugment#identity()},
 *     {@link org.stablekd.distill.augment.MixUp}, {@link org.stablekd.distill.augment.CutMix},
 *     {@link org.stablekd.distill.augment.CutMixPick}; {@link org.stablekd.distill.augment.BatchAugment#parse}
 *     reads a command-line spec.
 * <li>{@link org.stablekd.distill.augment.MixedLoss}: the λ-weighted cross-entropy of a mixed batch
 *     from existing ops.
 * <li>{@link org.stablekd.distill.augment.TeacherStddev}: the paper's "T. stddev" metric of how good
 *     an augmentation is for KD, computed from the teacher alone.
 * </ul>
 *
 * <p>How the paper trains with an augmentation (its code, {@code --lw_mix [1,0,1]
 * --t_output_as_target_for_input_mix}): the mixed batch is used <em>in addition</em> to the original
 * one; loss = 0.1·CE(s(x), y) + 0.9·[KD(s(x), t(x)) + KD(s(x̃), t(x̃))], where the KD target of a
 * mixed image x̃ is the teacher's output on x̃ itself (not an interpolation of logits), and there is
 * no CE on mixed labels. The labels and λ in {@link org.stablekd.distill.augment.Mixed} let a method
 * add the CutMix-paper CE term too.
 *
 * <p>All transforms are data transforms (never differentiated) on host tensors: images (B, C, H, W)
 * F32, labels (B) I32. They draw every random number from the given {@code Rng}, so a step is
 * reproducible from the generator's state.
 */
package org.stablekd.distill.augment;

/**
 * Datasets, transforms and the batch loader.
 *
 * <ul>
 * <li><b>Datasets</b>: {@link org.stablekd.data.Dataset} — uint8 images (C, H, W) in an
 *     {@link org.stablekd.data.ImageStore}, int labels, class names; {@code subset(fraction, seed)}
 *     is stratified and seeded ({@link org.stablekd.data.StratifiedSubset}).
 * <li><b>Readers</b> (one per format; damaged files fail with one
 *     {@link org.stablekd.data.DatasetFormatException} naming the file and the byte or record):
 *     {@link org.stablekd.data.IdxReader} (MNIST, Fashion-MNIST), {@link org.stablekd.data.CifarReader}
 *     (CIFAR-10/100 binary), {@link org.stablekd.data.ImageFolderReader} (Imagewoof / ImageNet trees,
 *     decoded up front or lazily).
 * <li><b>Transforms</b> on one image in a reused {@link org.stablekd.data.ImageBuffer}, randomness from
 *     a given Rng only: {@link org.stablekd.data.RandomCrop}, {@link org.stablekd.data.RandomHorizontalFlip},
 *     {@link org.stablekd.data.Normalize}, {@link org.stablekd.data.RandomResizedCrop},
 *     {@link org.stablekd.data.CenterCrop}, {@link org.stablekd.data.PadToSize},
 *     {@link org.stablekd.data.RepeatChannels}, {@link org.stablekd.data.Compose}; the recipes
 *     (docs/design.md, Augmentation and normalization) in {@link org.stablekd.data.Transforms}.
 * <li><b>Loader</b>: {@link org.stablekd.data.Loader} batches on its own background threads into a ring
 *     of reused off-heap {@link org.stablekd.data.Batch}es; the batches depend only on (seed, epoch),
 *     so runs are reproducible and resumable mid-epoch.
 * </ul>
 */
package org.stablekd.data;

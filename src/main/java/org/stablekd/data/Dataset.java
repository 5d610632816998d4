package org.stablekd.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A labelled image dataset: uint8 images of one {@link ImageShape} in an {@link ImageStore}
 * (compact bytes, not floats; transforms turn them into floats one image at a time), an int label
 * per image in {@code [0, numClasses)}, the class names and a display name. Immutable; safe to read
 * from several threads.
 */
public final class Dataset {
    private final String name;
    private final ImageStore images;
    private final int[] labels;
    private final List<String> classNames;

    /**
     * @param classNames one name per class; its size is the class count. Labels outside
     *                   {@code [0, classNames.size())} are rejected.
     */
    public Dataset(String name, ImageStore images, int[] labels, List<String> classNames) {
        this.name = Objects.requireNonNull(name);
        this.images = Objects.requireNonNull(images);
        this.labels = labels.clone();
        this.classNames = List.copyOf(classNames);
        if (labels.length != images.size()) {
            throw new IllegalArgumentException(name + ": " + images.size() + " images but " + labels.length + " labels");
        }
        if (this.classNames.isEmpty()) throw new IllegalArgumentException(name + ": a dataset needs at least one class");
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= this.classNames.size()) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of image " + i + " is outside 0.." + (this.classNames.size() - 1));
            }
        }
    }

    /** Class names "0", "1", … for datasets that ship none. */
    public static List<String> numberedClasses(int count) {
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) names.add(Integer.toString(i));
        return names;
    }

    public String name() { return name; }
    public int size() { return labels.length; }
    public ImageShape shape() { return images.shape(); }
    public int numClasses() { return classNames.size(); }
    public List<String> classNames() { return classNames; }
    public ImageStore images() { return images; }
    public int label(int index) { return labels[index]; }
    public int[] labels() { return labels.clone(); }

    /** Copies the uint8 pixels of image {@code index} into {@code dst} at {@code offset}. */
    public void readImage(int index, byte[] dst, int offset) throws IOException {
        images.read(index, dst, offset);
    }

    /** Images per class. */
    public int[] classCounts() {
        int[] counts = new int[numClasses()];
        for (int l : labels) counts[l]++;
        return counts;
    }

    /** The images at {@code indices}, in that order, as a new dataset. */
    public Dataset select(int[] indices, String newName) {
        int[] newLabels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) newLabels[i] = labels[Objects.checkIndex(indices[i], labels.length)];
        return new Dataset(newName, images.select(indices), newLabels, classNames);
    }

    /**
     * A seeded stratified subset: {@code fraction} of every class (rounded, at least one image of
     * each non-empty class), the same images for the same seed. See {@link StratifiedSubset}.
     */
    public Dataset subset(double fraction, long seed) {
        if (fraction == 1.0) return this;
        int[] keep = StratifiedSubset.indices(labels, numClasses(), fraction, seed);
        String percent = new java.math.BigDecimal(100 * fraction).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
        return select(keep, name + " (" + percent + "% stratified, seed " + seed + ")");
    }

    /**
     * Splits off {@code count} images, stratified by class and seeded, as a validation set:
     * returns {@code [rest, validation]}, disjoint, each in file order. Choices between variants
     * are made on the validation part so the test set stays unseen (issue 13).
     */
    public Dataset[] holdOut(int count, long seed) {
        if (count <= 0 || count >= size()) {
            throw new IllegalArgumentException("a validation hold-out needs between 1 and " + (size() - 1) + " images of " + name + ", got " + count);
        }
        int[] val = StratifiedSubset.indices(labels, numClasses(), (double) count / size(), seed);
        boolean[] taken = new boolean[size()];
        for (int i : val) taken[i] = true;
        int[] rest = new int[size() - val.length];
        for (int i = 0, at = 0; i < size(); i++) if (!taken[i]) rest[at++] = i;
        return new Dataset[] {select(rest, name + " (without " + val.length + " validation images)"),
                select(val, name + " (" + val.length + " validation images, seed " + seed + ")")};
    }

    /**
     * Part {@code rank} of {@code ranks} contiguous, nearly equal parts (evaluation shared by
     * data-parallel ranks: every image is evaluated exactly once over the group).
     */
    public Dataset shard(int rank, int ranks) {
        if (ranks == 1) return this;
        if (rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks + " is not a rank of the group");
        int from = (int) ((long) size() * rank / ranks), to = (int) ((long) size() * (rank + 1) / ranks);
        int[] idx = new int[to - from];
        for (int i = 0; i < idx.length; i++) idx[i] = from + i;
        return select(idx, name + " (part " + (rank + 1) + " of " + ranks + ")");
    }

    @Override
    public String toString() {
        return name + ": " + size() + " images of " + shape() + ", " + numClasses() + " classes";
    }
}

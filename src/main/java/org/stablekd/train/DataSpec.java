package org.stablekd.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.stablekd.data.CifarReader;
import org.stablekd.data.Compose;
import org.stablekd.data.Dataset;
import org.stablekd.data.IdxReader;
import org.stablekd.data.ImageFolderReader;
import org.stablekd.data.Normalize;
import org.stablekd.data.RandomCrop;
import org.stablekd.data.RandomHorizontalFlip;
import org.stablekd.data.RepeatChannels;
import org.stablekd.data.Split;
import org.stablekd.data.Transform;
import org.stablekd.data.Transforms;
import org.stablekd.tensor.Shape;

/**
 * A dataset named on the command line, with the transforms of its recipe (docs/design.md,
 * Augmentation and normalization; docs/design.md, Data):
 * <ul>
 *   <li>{@code fashion-mnist[:DIR]} — IDX files (default {@value #FASHION_DIR}); input 1×32×32
 *       (zero-padded), 1×28×28, or 3×32×32 (channels repeated); train: random crop (pad 4) + flip.</li>
 *   <li>{@code cifar10:DIR}, {@code cifar100:DIR} — the binary version; input 3×32×32; crop + flip.</li>
 *   <li>{@code folder:DIR} — {@code DIR/train/<class>/*} and {@code DIR/val/<class>/*} (Imagewoof,
 *       ImageNet); input 3×S×S (default 224): random-resized crop + flip / resize + center crop.</li>
 * </ul>
 */
public record DataSpec(String name, Dataset train, Dataset test, Transform trainTransform, Transform testTransform, Shape input) {
    public static final String FASHION_DIR = "/usr/share/datasets/fashion-mnist";

    /** Parses {@code spec}; {@code input} (C,H,W) may be null for the dataset's default. */
    public static DataSpec load(String spec, Shape input, int folderThreads) throws IOException {
        String kind = spec, dir = null;
        int colon = spec.indexOf(':');
        if (colon >= 0) {
            kind = spec.substring(0, colon);
            dir = spec.substring(colon + 1);
        }
        return switch (kind) {
            case "fashion-mnist" -> fashion(Path.of(dir == null ? FASHION_DIR : dir), input);
            case "cifar10", "cifar100" -> cifar(kind, requireDir(kind, dir), input);
            case "folder" -> folder(requireDir(kind, dir), input, folderThreads);
            default -> throw new IllegalArgumentException("unknown dataset '" + spec
                    + "'; use fashion-mnist[:DIR], cifar10:DIR, cifar100:DIR or folder:DIR");
        };
    }

    private static Path requireDir(String kind, String dir) {
        if (dir == null || dir.isEmpty()) throw new IllegalArgumentException("--data " + kind + " needs a folder: --data " + kind + ":/path/to/data");
        Path p = Path.of(dir);
        if (!Files.isDirectory(p)) throw new IllegalArgumentException("--data " + kind + ": " + p + " is not a folder");
        return p;
    }

    private static DataSpec fashion(Path dir, Shape input) throws IOException {
        if (!Files.exists(dir.resolve("train-images-idx3-ubyte.gz")) && !Files.exists(dir.resolve("train-images-idx3-ubyte"))) {
            throw new IllegalArgumentException("Fashion-MNIST is not in " + dir + "; install it with 'sudo apt-get install dataset-fashion-mnist'"
                    + " (or pass --data fashion-mnist:DIR with the four IDX files)");
        }
        Shape in = input == null ? Shape.of(1, 32, 32) : input;
        int c = in.dim(0), h = in.dim(1), w = in.dim(2);
        if (!((c == 1 || c == 3) && ((h == 32 && w == 32) || (h == 28 && w == 28)))) {
            throw new IllegalArgumentException("Fashion-MNIST can be fed as 1x32x32, 1x28x28, 3x32x32 or 3x28x28, not " + in);
        }
        Transform train, test;
        if (h == 32) {
            train = Transforms.fashionMnist(true, c);
            test = Transforms.fashionMnist(false, c);
        } else {
            Transform norm = Normalize.FASHION_MNIST;
            train = c == 3 ? Compose.of(new RandomCrop(28, 4), new RandomHorizontalFlip(0.5), norm, new RepeatChannels(3))
                    : Compose.of(new RandomCrop(28, 4), new RandomHorizontalFlip(0.5), norm);
            test = c == 3 ? Compose.of(norm, new RepeatChannels(3)) : norm;
        }
        return new DataSpec("fashion-mnist", IdxReader.fashionMnist(dir, Split.TRAIN), IdxReader.fashionMnist(dir, Split.TEST), train, test, in);
    }

    private static DataSpec cifar(String kind, Path dir, Shape input) throws IOException {
        Shape in = input == null ? Shape.of(3, 32, 32) : input;
        if (!in.equals(Shape.of(3, 32, 32))) throw new IllegalArgumentException(kind + " images are 3x32x32; --input " + in + " does not fit");
        boolean hundred = kind.equals("cifar100");
        Normalize norm = hundred ? Normalize.CIFAR100 : Normalize.CIFAR10;
        Dataset train = hundred ? CifarReader.cifar100(dir, Split.TRAIN) : CifarReader.cifar10(dir, Split.TRAIN);
        Dataset test = hundred ? CifarReader.cifar100(dir, Split.TEST) : CifarReader.cifar10(dir, Split.TEST);
        return new DataSpec(kind, train, test, Transforms.cifarTrain(norm), Transforms.eval(norm), in);
    }

    private static DataSpec folder(Path dir, Shape input, int threads) throws IOException {
        Shape in = input == null ? Shape.of(3, 224, 224) : input;
        if (in.dim(0) != 3 || in.dim(1) != in.dim(2)) throw new IllegalArgumentException("image folders are fed as 3xSxS, not " + in);
        int size = in.dim(1);
        int shorter = (int) Math.round(size / 0.875);
        Path trainDir = dir.resolve("train"), valDir = dir.resolve("val");
        if (!Files.isDirectory(trainDir) || !Files.isDirectory(valDir)) {
            throw new IllegalArgumentException(dir + " needs train/ and val/ subfolders with one folder per class");
        }
        // train images are decoded lazily by the loader (random-resized crop from the original); val up front at the eval size
        Dataset train = ImageFolderReader.lazy(trainDir, shorter, shorter);
        Dataset test = ImageFolderReader.read(valDir, shorter, size, threads);
        return new DataSpec("folder:" + dir.getFileName(), train, test, Transforms.imageNetTrain(size, Normalize.IMAGENET),
                Transforms.imageNetEval(size, Normalize.IMAGENET), in);
    }

    /** The number of classes (from the training set). */
    public int numClasses() {
        return train.numClasses();
    }
}

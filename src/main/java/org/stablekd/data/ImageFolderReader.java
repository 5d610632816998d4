package org.stablekd.data;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Reads an image-folder tree, one subfolder per class (the Imagewoof / ImageNet layout
 * {@code train/<class>/*.JPEG}, {@code val/<class>/*}); torchvision's {@code ImageFolder}:
 * classes are the subfolder names sorted, labels their positions, files sorted by name within a
 * class, hidden files and files without an image extension skipped.
 *
 * <p>Every image becomes uint8 (3, crop, crop) through {@link ImageFileDecoder} (resize the shorter
 * side, center crop). Two ways to hold them:
 * <ul>
 * <li>{@link #read} decodes everything up front, on a few threads of its own, into an
 *     {@link InMemoryImages}: a damaged image fails the read at once, naming the file, and training
 *     then never decodes. Fits Imagewoof (13k images, 3·160·160 B each ≈ 1 GB).
 * <li>{@link #lazy} only lists the files; the loader's threads decode them at every epoch
 *     ({@link LazyImageFiles}). For ImageNet-size trees; a damaged image fails the batch that holds it.
 * </ul>
 */
public final class ImageFolderReader {
    private static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif");

    private ImageFolderReader() {}

    /** The class names and the sorted files with their labels. */
    public record Listing(List<String> classNames, Path[] files, int[] labels) {}

    public static Listing list(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) throw new NoSuchFileException(dir.toString(), null, "not a directory (expected one subfolder per class)");
        List<Path> classDirs;
        try (Stream<Path> s = Files.list(dir)) {
            classDirs = s.filter(Files::isDirectory).filter(p -> !hidden(p)).sorted((a, b) -> name(a).compareTo(name(b))).toList();
        }
        if (classDirs.isEmpty()) {
            throw new DatasetFormatException(dir + ": no class subfolders; an image folder holds one subfolder of images per class");
        }
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (Path c : classDirs) {
            List<Path> images;
            try (Stream<Path> s = Files.list(c)) {
                images = s.filter(Files::isRegularFile).filter(p -> !hidden(p) && isImageName(p)).sorted((a, b) -> name(a).compareTo(name(b))).toList();
            }
            if (images.isEmpty()) {
                throw new DatasetFormatException(c + ": class folder without images (looked for ." + String.join(", .", EXTENSIONS.stream().sorted().toList()) + ")");
            }
            for (Path p : images) {
                files.add(p);
                labels.add(classes.size());
            }
            classes.add(name(c));
        }
        return new Listing(classes, files.toArray(Path[]::new), labels.stream().mapToInt(Integer::intValue).toArray());
    }

    /**
     * Decodes the whole tree up front on {@code threads} threads of its own. When several images
     * are damaged, the error names the first in file order.
     */
    public static Dataset read(Path dir, int shorterSide, int crop, int threads) throws IOException {
        if (threads < 1) throw new IllegalArgumentException("decode threads must be at least 1, got " + threads);
        Listing listing = list(dir);
        ImageFileDecoder decoder = new ImageFileDecoder(shorterSide, crop);
        Path[] files = listing.files();
        InMemoryImages images = new InMemoryImages(files.length, decoder.shape());
        AtomicInteger next = new AtomicInteger();
        AtomicInteger firstFailed = new AtomicInteger(Integer.MAX_VALUE);
        Throwable[] failures = new Throwable[files.length];
        Runnable work = () -> {
            byte[] buf = new byte[decoder.shape().numel()];
            for (int i; (i = next.getAndIncrement()) < files.length && i < firstFailed.get(); ) {
                try {
                    decoder.decode(files[i], buf, 0);
                    images.write(i, buf, 0);
                } catch (DatasetFormatException | RuntimeException | Error e) {
                    failures[i] = e;
                    firstFailed.accumulateAndGet(i, Math::min);
                }
            }
        };
        List<Thread> pool = new ArrayList<>();
        for (int t = 0; t < Math.min(threads, Math.max(1, files.length)); t++) {
            Thread th = new Thread(work, "image-folder-decode-" + t);
            th.setDaemon(true);
            th.start();
            pool.add(th);
        }
        try {
            for (Thread th : pool) th.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while decoding " + dir);
        }
        int bad = firstFailed.get();
        if (bad != Integer.MAX_VALUE) {
            switch (failures[bad]) {
                case DatasetFormatException e -> throw e;
                case RuntimeException e -> throw e;
                case Error e -> throw e;
                default -> throw new IllegalStateException(failures[bad]);
            }
        }
        return new Dataset(displayName(dir), images, listing.labels(), listing.classNames());
    }

    /** Lists the tree and decodes each image when it is read (see {@link LazyImageFiles}). */
    public static Dataset lazy(Path dir, int shorterSide, int crop) throws IOException {
        Listing listing = list(dir);
        ImageStore images = new LazyImageFiles(listing.files(), new ImageFileDecoder(shorterSide, crop));
        return new Dataset(displayName(dir), images, listing.labels(), listing.classNames());
    }

    private static String displayName(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        return parent != null && parent.getFileName() != null ? name(parent) + "/" + name(abs) : name(abs);
    }

    private static String name(Path p) {
        Path n = p.getFileName();
        return n == null ? p.toString() : n.toString();
    }

    private static boolean hidden(Path p) {
        return name(p).startsWith(".");
    }

    private static boolean isImageName(Path p) {
        String n = name(p);
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}

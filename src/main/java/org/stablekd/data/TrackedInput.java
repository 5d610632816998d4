package org.stablekd.data;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.function.LongFunction;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * A dataset file opened for sequential reading that knows its position, so errors can name the
 * byte. Gzip is detected by its magic bytes (0x1f 0x8b), not by the file name; positions then count
 * decompressed bytes. A gzip stream that ends early reads as end of data (the caller reports the
 * truncation with its expected size); damaged compressed data throws a {@link DatasetFormatException}.
 */
final class TrackedInput implements Closeable {
    private static final int BUFFER = 1 << 16;

    final Path file;
    final boolean gzip;
    private final InputStream in;
    private final String hint;
    private long position;

    private TrackedInput(Path file, boolean gzip, InputStream in, String hint) {
        this.file = file;
        this.gzip = gzip;
        this.in = in;
        this.hint = hint;
    }

    /** @param hint what to do about a damaged file, appended to error messages */
    static TrackedInput open(Path file, String hint) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "no such file; " + hint);
        BufferedInputStream raw = new BufferedInputStream(Files.newInputStream(file), BUFFER);
        try {
            raw.mark(2);
            boolean gz = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            InputStream in = gz ? new GZIPInputStream(raw, BUFFER) : raw;
            return new TrackedInput(file, gz, in, hint);
        } catch (ZipException e) {
            raw.close();
            throw new DatasetFormatException(name(file) + ": damaged gzip header (" + e.getMessage() + "); " + hint, e);
        } catch (IOException e) {
            raw.close();
            throw e;
        }
    }

    static String name(Path file) {
        Path n = file.getFileName();
        return n == null ? file.toString() : n.toString();
    }

    String name() {
        return name(file);
    }

    /** Bytes read so far ("byte N" in messages; decompressed bytes for gzip). */
    long position() {
        return position;
    }

    /** "byte N" or "byte N of the decompressed data", for messages. */
    String at(long pos) {
        return gzip ? "byte " + pos + " of the decompressed data" : "byte " + pos;
    }

    /**
     * Reads into {@code b[off, off+len)} until full or the data ends; returns the count read.
     * {@code where} describes the record at a position (e.g. "image 5999") for the damage message.
     */
    int fill(byte[] b, int off, int len, LongFunction<String> where) throws DatasetFormatException, IOException {
        int got = 0;
        while (got < len) {
            int n;
            try {
                n = in.read(b, off + got, Math.min(len - got, BUFFER)); // small steps keep the position of damage precise
            } catch (EOFException e) { // gzip stream cut short: report as truncation
                return got;
            } catch (ZipException e) {
                throw new DatasetFormatException(name() + ": damaged compressed data within 64 KiB after " + at(position) + " (" + where.apply(position)
                        + " or later): " + e.getMessage() + "; " + hint, e);
            }
            if (n < 0) return got;
            got += n;
            position += n;
        }
        return got;
    }

    /** A big-endian int, or throws naming the header field when the file ends first. */
    int readInt(String field) throws IOException {
        byte[] b = new byte[4];
        long start = position;
        if (fill(b, 0, 4, p -> "header") < 4) {
            throw new DatasetFormatException(name() + ": truncated at " + at(position) + " while reading the header field '" + field
                    + "' (bytes " + start + ".." + (start + 3) + "); the file is incomplete — " + hint);
        }
        return (b[0] & 0xFF) << 24 | (b[1] & 0xFF) << 16 | (b[2] & 0xFF) << 8 | (b[3] & 0xFF);
    }

    /** True when no data is left (checks that a file has nothing after its last record). */
    boolean atEnd(LongFunction<String> where) throws IOException {
        byte[] one = new byte[1];
        return fill(one, 0, 1, where) == 0;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}

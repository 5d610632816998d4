package org.stablekd.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An n-dimensional array: a view (offset, shape, strides in elements) of a {@link Storage}.
 * Images are NCHW. Ops live in {@code org.stablekd.ops}; this class holds data, views and the
 * autograd fields. The view methods here ({@link #viewAs}, {@link #narrowView},
 * {@link #permuteView}) are raw: autograd does not see them — use {@code Layout.reshape} and
 * friends in the op layer on tensors that take part in a gradient.
 */
public final class Tensor {
    private final Storage storage;
    private final long offset;
    private final Shape shape;
    private final long[] strides;
    private final DType dtype;

    // autograd
    private boolean requiresGrad;
    private Tensor grad;
    private GradNode gradFn;
    private String name;

    private Tensor(Storage storage, long offset, Shape shape, long[] strides, DType dtype) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        this.dtype = dtype;
    }

    // ---------------------------------------------------------------- creation

    /** Uninitialized contiguous host tensor (owned by the current {@link Scope}, if any). */
    public static Tensor empty(DType dtype, Shape shape) {
        Storage s = HostAllocator.get().allocate(shape.numel() * dtype.bytes);
        return new Tensor(s, 0, shape, shape.contiguousStrides(), dtype);
    }

    /** Uninitialized contiguous tensor on {@code device}. */
    public static Tensor empty(DType dtype, Shape shape, Device device) {
        Storage s = DeviceAllocator.Registry.allocate(device, shape.numel() * dtype.bytes);
        return new Tensor(s, 0, shape, shape.contiguousStrides(), dtype);
    }

    /** Uninitialized tensor with the dtype and device of {@code like} and the given shape. */
    public static Tensor emptyLike(Tensor like, Shape shape) {
        return empty(like.dtype(), shape, like.device());
    }

    /** Uninitialized tensor with the dtype, device and shape of {@code like}. */
    public static Tensor emptyLike(Tensor like) {
        return empty(like.dtype(), like.shape(), like.device());
    }

    public static Tensor empty(DType dtype, int... dims) {
        return empty(dtype, Shape.of(dims));
    }

    /** Wraps existing storage (e.g. a slab or a device allocation) as a contiguous tensor. */
    public static Tensor wrap(Storage storage, long offset, DType dtype, Shape shape) {
        long need = (offset + shape.numel()) * dtype.bytes;
        if (offset < 0 || need > storage.bytes()) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + shape + " at element offset " + offset
                    + " needs " + need + " bytes; the storage has " + storage.bytes());
        }
        return new Tensor(storage, offset, shape, shape.contiguousStrides(), dtype);
    }

    public static Tensor zeros(DType dtype, int... dims) {
        return empty(dtype, dims).fill(0);
    }

    public static Tensor zeros(DType dtype, Shape shape) {
        return empty(dtype, shape).fill(0);
    }

    public static Tensor full(DType dtype, double value, int... dims) {
        return empty(dtype, dims).fill(value);
    }

    public static Tensor of(float[] data, int... dims) {
        Tensor t = empty(DType.F32, checkCount(data.length, dims));
        MemorySegment.copy(data, 0, t.segment(), ValueLayout.JAVA_FLOAT, 0, data.length);
        return t;
    }

    public static Tensor ofDoubles(double[] data, int... dims) {
        Tensor t = empty(DType.F64, checkCount(data.length, dims));
        MemorySegment.copy(data, 0, t.segment(), ValueLayout.JAVA_DOUBLE, 0, data.length);
        return t;
    }

    public static Tensor ofInts(int[] data, int... dims) {
        Tensor t = empty(DType.I32, checkCount(data.length, dims));
        MemorySegment.copy(data, 0, t.segment(), ValueLayout.JAVA_INT, 0, data.length);
        return t;
    }

    public static Tensor scalar(DType dtype, double value) {
        return empty(dtype, Shape.scalar()).fill(value);
    }

    /** Normal(0, std) entries. */
    public static Tensor randn(Rng rng, DType dtype, double std, int... dims) {
        Tensor t = empty(dtype, dims);
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, rng.nextGaussian() * std);
        return t;
    }

    /** Uniform(lo, hi) entries. */
    public static Tensor uniform(Rng rng, DType dtype, double lo, double hi, int... dims) {
        Tensor t = empty(dtype, dims);
        for (long i = 0; i < t.numel(); i++) t.setFlat(i, lo + (hi - lo) * rng.nextDouble());
        return t;
    }

    private static Shape checkCount(int n, int[] dims) {
        Shape s = Shape.of(dims);
        if (s.numel() != n) {
            throw new IllegalArgumentException(n + " values do not fill shape " + s + " (" + s.numel() + " elements)");
        }
        return s;
    }

    // ---------------------------------------------------------------- metadata

    public Shape shape() { return shape; }
    public int rank() { return shape.rank(); }
    public int dim(int i) { return shape.dim(i); }
    public long numel() { return shape.numel(); }
    public DType dtype() { return dtype; }
    public Device device() { return storage.device(); }
    public Storage storage() { return storage; }
    /** Offset of element (0,…,0) in elements of {@link #dtype()}. */
    public long offset() { return offset; }
    public long stride(int i) { return strides[i < 0 ? strides.length + i : i]; }
    public long[] strides() { return strides.clone(); }

    /** The host segment of the whole storage (index it with {@link #offset()} and the strides). */
    public MemorySegment segment() {
        return storage.segment();
    }

    /** True when elements are laid out row-major without gaps (size-1 dims may have any stride). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            if (d != 1 && strides[i] != expected) return false;
            expected *= d;
        }
        return true;
    }

    // ---------------------------------------------------------------- raw views (not recorded by autograd)

    /** Same elements with another shape (one dim may be -1); needs a contiguous tensor. */
    public Tensor viewAs(int... dims) {
        if (!isContiguous()) {
            throw new IllegalArgumentException("viewAs: tensor of shape " + shape + " with strides "
                    + Arrays.toString(strides) + " is not contiguous; make a contiguous copy first");
        }
        Shape s = inferShape(dims);
        return new Tensor(storage, offset, s, s.contiguousStrides(), dtype);
    }

    /** Resolves one -1 in {@code dims} against this tensor's element count. */
    public Shape inferShape(int... dims) {
        int[] d = dims.clone();
        int free = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) {
                if (free >= 0) throw new IllegalArgumentException("reshape " + Arrays.toString(dims) + ": only one dimension can be -1");
                free = i;
            } else if (d[i] < 0) {
                throw new IllegalArgumentException("reshape " + Arrays.toString(dims) + ": negative dimension");
            } else {
                known *= d[i];
            }
        }
        if (free >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + shape + " (" + numel() + " elements) to " + Arrays.toString(dims));
            }
            d[free] = (int) (numel() / known);
        }
        Shape s = Shape.of(d);
        if (s.numel() != numel()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " (" + numel() + " elements) to " + s + " (" + s.numel() + " elements)");
        }
        return s;
    }

    /** Elements {@code [start, start+length)} along {@code dim}. */
    public Tensor narrowView(int dim, int start, int length) {
        int r = dim < 0 ? rank() + dim : dim;
        if (r < 0 || r >= rank()) throw new IllegalArgumentException("narrow: dim " + dim + " out of range for shape " + shape);
        if (start < 0 || length < 0 || start + length > shape.dim(r)) {
            throw new IllegalArgumentException("narrow: [" + start + ", " + (start + length) + ") is outside dim " + r + " of shape " + shape);
        }
        return new Tensor(storage, offset + start * strides[r], shape.with(r, length), strides.clone(), dtype);
    }

    /**
     * Any view of the same storage from this tensor's offset: {@code dims} with {@code strides}
     * (non-negative, in elements). Checked to stay inside the storage.
     */
    public Tensor asStridedView(int[] dims, long[] newStrides) {
        if (dims.length != newStrides.length) throw new IllegalArgumentException("asStrided: " + dims.length + " dims but " + newStrides.length + " strides");
        long last = offset;
        for (int i = 0; i < dims.length; i++) {
            if (newStrides[i] < 0) throw new IllegalArgumentException("asStrided: negative stride " + newStrides[i]);
            if (dims[i] == 0) { last = -1; break; }
            last += (dims[i] - 1) * newStrides[i];
        }
        if ((last + 1) * dtype.bytes > storage.bytes()) {
            throw new IllegalArgumentException("asStrided: view " + Arrays.toString(dims) + " strides " + Arrays.toString(newStrides)
                    + " reaches element " + last + ", beyond the storage (" + storage.bytes() / dtype.bytes + " elements)");
        }
        return new Tensor(storage, offset, Shape.of(dims), newStrides.clone(), dtype);
    }

    /**
     * Broadcasts size-1 dimensions to {@code dims} with stride 0 (read-only use: writing through
     * an expanded view writes one element many times).
     */
    public Tensor expandView(int... dims) {
        if (dims.length != rank()) throw new IllegalArgumentException("expand " + Arrays.toString(dims) + " does not match rank of " + shape);
        long[] st = strides.clone();
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == shape.dim(i)) continue;
            if (shape.dim(i) != 1) throw new IllegalArgumentException("expand: dim " + i + " of " + shape + " is not 1, cannot become " + dims[i]);
            st[i] = 0;
        }
        return new Tensor(storage, offset, Shape.of(dims), st, dtype);
    }

    /** Reorders dimensions: result dim i is this tensor's dim {@code order[i]}. */
    public Tensor permuteView(int... order) {
        if (order.length != rank()) throw new IllegalArgumentException("permute " + Arrays.toString(order) + " does not match rank of " + shape);
        int[] d = new int[order.length];
        long[] st = new long[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int o = order[i];
            if (o < 0 || o >= order.length || seen[o]) throw new IllegalArgumentException("permute " + Arrays.toString(order) + " is not a permutation");
            seen[o] = true;
            d[i] = shape.dim(o);
            st[i] = strides[o];
        }
        return new Tensor(storage, offset, Shape.of(d), st, dtype);
    }

    // ---------------------------------------------------------------- element access (slow path; for tests, setup and I/O)

    /** Storage index (in elements) of the {@code flat}-th element in row-major order. */
    public long storageIndex(long flat) {
        long idx = offset;
        for (int i = rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            idx += (flat % d) * strides[i];
            flat /= d;
        }
        return idx;
    }

    public double getFlat(long flat) {
        return read(storageIndex(checkFlat(flat)));
    }

    public Tensor setFlat(long flat, double v) {
        write(storageIndex(checkFlat(flat)), v);
        return this;
    }

    /** The value at a full index (one per dimension). */
    public double get(int... index) {
        return read(indexOf(index));
    }

    public Tensor set(double v, int... index) {
        write(indexOf(index), v);
        return this;
    }

    private long indexOf(int[] index) {
        if (index.length != rank()) throw new IllegalArgumentException("index " + Arrays.toString(index) + " for shape " + shape);
        long idx = offset;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i)) throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " outside shape " + shape);
            idx += index[i] * strides[i];
        }
        return idx;
    }

    private long checkFlat(long flat) {
        if (flat < 0 || flat >= numel()) throw new IndexOutOfBoundsException("element " + flat + " of a tensor with " + numel());
        return flat;
    }

    private double read(long i) {
        MemorySegment seg = storage.segment();
        return switch (dtype) {
            case F32 -> seg.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            case F64 -> seg.getAtIndex(ValueLayout.JAVA_DOUBLE, i);
            case I32 -> seg.getAtIndex(ValueLayout.JAVA_INT, i);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(ValueLayout.JAVA_SHORT, i));
            case BF16 -> Float.intBitsToFloat((seg.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xFFFF) << 16);
        };
    }

    private void write(long i, double v) {
        MemorySegment seg = storage.segment();
        switch (dtype) {
            case F32 -> seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
            case F64 -> seg.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
            case I32 -> seg.setAtIndex(ValueLayout.JAVA_INT, i, (int) v);
            case F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16((float) v));
            case BF16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT, i, floatToBf16((float) v));
        }
    }

    /** Round-to-nearest-even float → bfloat16 bits. */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Sets every element. */
    public Tensor fill(double v) {
        if (isContiguous() && (v == 0 || dtype == DType.F32)) {
            MemorySegment part = storage.segment().asSlice(offset * dtype.bytes, numel() * dtype.bytes);
            if (v == 0) {
                part.fill((byte) 0);
            } else {
                for (long i = 0, n = numel(); i < n; i++) part.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
            }
            return this;
        }
        for (long i = 0; i < numel(); i++) setFlat(i, v);
        return this;
    }

    public float[] toFloatArray() {
        float[] out = new float[Math.toIntExact(numel())];
        if (isContiguous() && dtype == DType.F32) {
            MemorySegment.copy(segment(), ValueLayout.JAVA_FLOAT, offset * 4, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) out[i] = (float) getFlat(i);
        }
        return out;
    }

    public double[] toDoubleArray() {
        double[] out = new double[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = getFlat(i);
        return out;
    }

    public int[] toIntArray() {
        int[] out = new int[Math.toIntExact(numel())];
        for (int i = 0; i < out.length; i++) out[i] = (int) getFlat(i);
        return out;
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalArgumentException("item() needs a one-element tensor, this one has shape " + shape);
        return getFlat(0);
    }

    // ---------------------------------------------------------------- autograd fields

    public boolean requiresGrad() { return requiresGrad; }

    /** Marks a leaf tensor as one whose gradient {@code backward} accumulates in {@link #grad()}. */
    public Tensor requiresGrad(boolean on) {
        if (gradFn != null && !on) {
            throw new IllegalArgumentException("requiresGrad(false) on a tensor produced by " + gradFn.opName() + "; use detach()");
        }
        if (on && !dtype.floating) throw new IllegalArgumentException("only floating tensors can require gradients, not " + dtype);
        this.requiresGrad = on;
        return this;
    }

    public Tensor grad() { return grad; }
    public void setGrad(Tensor g) { this.grad = g; }
    public GradNode gradFn() { return gradFn; }

    /** Called by the autograd recorder: this tensor is the output of {@code node}. */
    public void setGradFn(GradNode node) {
        this.gradFn = node;
        this.requiresGrad = node != null;
    }

    public boolean isLeaf() { return gradFn == null; }

    /** A tensor sharing this one's storage, cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, offset, shape, strides, dtype);
    }

    public String name() { return name; }
    public Tensor name(String n) { this.name = n; return this; }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(' ').append(dtype).append(' ').append(device());
        if (name != null) sb.append(" '").append(name).append('\'');
        if (storage.isReleased()) return sb.append(" [released]").toString();
        if (!device().isHost()) return sb.append(" [values on the device]").toString();   // host code cannot read them
        sb.append(" [");
        long n = Math.min(numel(), 8);
        for (long i = 0; i < n; i++) {
            if (i > 0) sb.append(", ");
            sb.append(String.format("%.4g", getFlat(i)));
        }
        if (numel() > n) sb.append(", …");
        return sb.append(']').toString();
    }
}

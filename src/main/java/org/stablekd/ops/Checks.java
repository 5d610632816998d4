package org.stablekd.ops;

import org.stablekd.backend.Backend;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;

/**
 * Argument checks shared by the op frontends, and backend dispatch. Every failure is one
 * {@link IllegalArgumentException} whose message starts with the op's name and shows the shapes.
 */
final class Checks {
    private Checks() {}

    static void check(boolean ok, String op, String message, Object... args) {
        if (!ok) throw new IllegalArgumentException(op + ": " + String.format(message, args));
    }

    static void notNull(String op, String what, Tensor t) {
        if (t == null) throw new IllegalArgumentException(op + ": " + what + " is null");
    }

    static void rank(String op, String what, Tensor t, int rank, String layout) {
        notNull(op, what, t);
        check(t.rank() == rank, op, "%s must be %s (rank %d), got shape %s", what, layout, rank, t.shape());
    }

    static void shape(String op, String what, Tensor t, Shape expected) {
        notNull(op, what, t);
        check(t.shape().equals(expected), op, "%s must have shape %s, got %s", what, expected, t.shape());
    }

    /**
     * All non-null tensors: alive, floating, one dtype, one device. Returns the first tensor's dtype.
     */
    static DType floats(String op, Tensor... ts) {
        Tensor first = null;
        for (Tensor t : ts) {
            if (t == null) continue;
            t.storage().checkAlive();
            check(t.dtype().floating, op, "needs floating tensors, got %s of shape %s", t.dtype(), t.shape());
            if (first == null) {
                first = t;
                continue;
            }
            check(t.dtype() == first.dtype(), op, "mixes dtypes %s %s and %s %s", first.dtype(), first.shape(), t.dtype(), t.shape());
            check(t.device().equals(first.device()), op, "mixes devices %s (shape %s) and %s (shape %s)",
                    first.device(), first.shape(), t.device(), t.shape());
        }
        if (first == null) throw new IllegalArgumentException(op + ": no input tensor");
        return first.dtype();
    }

    /**
     * The inputs of a loss between a student and a frozen teacher on labelled logits: student and
     * teacher logits (N, classes) of one shape and float dtype, N >= 1, a teacher that requires no
     * gradient, and I32 labels (N) on the logits' device. {@code method} names the loss in the hint.
     */
    static void logitsAndLabels(String op, String method, Tensor student, Tensor teacher, Tensor labels) {
        rank(op, "student logits", student, 2, "(N,classes)");
        rank(op, "teacher logits", teacher, 2, "(N,classes)");
        floats(op, student, teacher);
        check(student.shape().equals(teacher.shape()), op, "student logits %s and teacher logits %s differ", student.shape(), teacher.shape());
        check(student.dim(0) >= 1, op, "empty batch");
        check(!teacher.requiresGrad(), op, "the teacher logits %s require a gradient; %s distills from a frozen teacher: "
                + "compute them under Autograd.noGrad() (distill.Teacher does) or pass a detached copy", teacher.shape(), method);
        rank(op, "labels", labels, 1, "(N)");
        check(labels.dtype() == DType.I32, op, "labels must be I32 class indices, got %s", labels.dtype());
        check(labels.dim(0) == student.dim(0), op, "%d labels for logits %s", labels.dim(0), student.shape());
        check(labels.device().equals(student.device()), op, "labels on %s, logits on %s", labels.device(), student.device());
    }

    /** The backend that runs {@code op} on {@code t}'s dtype and device. */
    static Backend backend(Op op, Tensor t) {
        return Backends.select(op, t.dtype(), t.device());
    }

    /** {@code t} itself if contiguous, else a contiguous copy (not recorded; views are raw). */
    static Tensor contiguous(Tensor t) {
        if (t == null || t.isContiguous()) return t;
        if (t.requiresGrad()) {
            throw new IllegalArgumentException("a non-contiguous view " + t.shape() + " that requires a gradient cannot be an op input: "
                    + "raw views are not recorded; make the leaf contiguous first");
        }
        Tensor c = Tensor.emptyLike(t);
        backend(Op.COPY, t).copy().copy(t, c);
        return c;
    }

    static String name(Op op) {
        return op.name().toLowerCase();
    }
}

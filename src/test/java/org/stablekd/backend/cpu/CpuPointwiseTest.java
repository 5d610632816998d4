package org.stablekd.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.stablekd.testing.Close.assertClose;
import static org.stablekd.testing.Close.assertCloseAllowingNonFinite;

import org.junit.jupiter.api.Test;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.backend.PointwiseKernels;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Tolerance;

/** CpuPointwise against the ref kernels: every loop shape, NaN/∞ inputs, offsets and in-place outputs. */
class CpuPointwiseTest {
    private final PointwiseKernels cpu = Backends.cpu().pointwise();
    private final PointwiseKernels ref = Backends.ref().pointwise();

    @Test
    void unaryMatchesRefForEverySizeIncludingSpecialValues() {
        for (int n : Data.SIZES) {
            try (Scope s = Scope.open()) {
                Tensor x = Data.withSpecials(n, n);
                for (Op op : new Op[] {Op.RELU, Op.RELU6, Op.SCALE, Op.ADD_SCALAR}) {
                    Tensor got = Data.emptyLike(x), want = Data.emptyLike(x);
                    cpu.unary(op, x, -1.75, got);
                    ref.unary(op, x, -1.75, want);
                    // relu/relu6 only select values: bit-exact; scale/add_scalar round once in float
                    Tolerance tol = op == Op.RELU || op == Op.RELU6 ? Tolerance.EXACT : Tolerance.F32_VS_REF;
                    assertCloseAllowingNonFinite(got, want, tol, op + " n=" + n); // specials: NaN and ±inf must propagate alike
                }
            }
        }
    }

    @Test
    void reluOfNaNIsZeroLikeTheRefButRelu6AndAddReluPropagateIt() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.full(DType.F32, Float.NaN, 19);
            Tensor y = Data.emptyLike(x);
            cpu.unary(Op.RELU, x, 0, y);
            for (int i = 0; i < 19; i++) assertEquals(0.0, y.getFlat(i), "relu(NaN) at " + i);
            cpu.unary(Op.RELU6, x, 0, y);
            for (int i = 0; i < 19; i++) assertTrue(Double.isNaN(y.getFlat(i)), "relu6(NaN) at " + i);
            cpu.binary(Op.ADD_RELU, x, Tensor.zeros(DType.F32, 19), y);
            for (int i = 0; i < 19; i++) assertTrue(Double.isNaN(y.getFlat(i)), "add_relu(NaN, 0) at " + i);
        }
    }

    @Test
    void binaryMatchesRefForEverySize() {
        for (int n : Data.SIZES) {
            try (Scope s = Scope.open()) {
                Tensor a = Data.withSpecials(n, n), b = Data.normal(n + 1, 2, n);
                for (Op op : new Op[] {Op.ADD, Op.SUB, Op.MUL, Op.ADD_RELU}) {
                    Tensor got = Data.emptyLike(a), want = Data.emptyLike(a);
                    cpu.binary(op, a, b, got);
                    ref.binary(op, a, b, want);
                    // one float operation per element, correctly rounded either way: bit-exact
                    assertCloseAllowingNonFinite(got, want, Tolerance.EXACT, op + " n=" + n);
                }
            }
        }
    }

    @Test
    void activationBackwardMatchesRef() {
        for (int n : Data.SIZES) {
            try (Scope s = Scope.open()) {
                Tensor r = Data.withSpecials(n, n), dy = Data.normal(n + 2, 1, n);
                for (Op op : new Op[] {Op.RELU, Op.RELU6, Op.ADD_RELU}) {
                    Tensor got = Data.emptyLike(r), want = Data.emptyLike(r);
                    cpu.activationBackward(op, r, dy, got);
                    ref.activationBackward(op, r, dy, want);
                    assertClose(got, want, Tolerance.EXACT, op + " backward n=" + n);
                }
            }
        }
    }

    @Test
    void axpyFillAndFillFromScalarMatchRef() {
        for (int n : Data.SIZES) {
            try (Scope s = Scope.open()) {
                Tensor a = Data.normal(n, 1, n), b = Data.normal(n + 3, 1, n);
                Tensor got = Data.emptyLike(a), want = Data.emptyLike(a);
                cpu.axpy(a, -0.3, b, got);
                ref.axpy(a, -0.3, b, want);
                assertClose(got, want, Tolerance.F32_VS_REF, "axpy n=" + n);
                cpu.fill(got, 2.5);
                ref.fill(want, 2.5);
                assertClose(got, want, Tolerance.EXACT, "fill n=" + n);
                cpu.fill(got, 0);
                ref.fill(want, 0);
                assertClose(got, want, Tolerance.EXACT, "fill 0 n=" + n);
                Tensor g = Tensor.scalar(DType.F32, 3);
                cpu.fillFromScalar(g, 1.0 / n, got);
                ref.fillFromScalar(g, 1.0 / n, want);
                assertClose(got, want, Tolerance.EXACT, "fillFromScalar n=" + n);
            }
        }
    }

    @Test
    void outputsMayAliasInputs() {
        for (int n : new int[] {17, 1003, 70_001}) {
            try (Scope s = Scope.open()) {
                Tensor x = Data.withSpecials(n, n), b = Data.normal(5, 1, n);
                Tensor want = Data.emptyLike(x);
                ref.unary(Op.RELU6, x, 0, want);
                Tensor inPlace = Data.atOffset(x, 0);
                cpu.unary(Op.RELU6, inPlace, 0, inPlace);
                assertCloseAllowingNonFinite(inPlace, want, Tolerance.EXACT, "relu6 y==x n=" + n);

                ref.binary(Op.SUB, x, b, want);
                Tensor a2 = Data.atOffset(x, 0);
                cpu.binary(Op.SUB, a2, b, a2);
                assertCloseAllowingNonFinite(a2, want, Tolerance.EXACT, "sub y==a n=" + n);
                Tensor b2 = Data.atOffset(b, 0);
                cpu.binary(Op.SUB, x, b2, b2);
                assertCloseAllowingNonFinite(b2, want, Tolerance.EXACT, "sub y==b n=" + n);

                ref.axpy(x, 0.5, b, want);
                Tensor acc = Data.atOffset(x, 0);
                cpu.axpy(acc, 0.5, b, acc); // gradient accumulation: grad += 0.5·g
                assertCloseAllowingNonFinite(acc, want, Tolerance.F32_VS_REF, "axpy y==a n=" + n);

                ref.activationBackward(Op.RELU, x, b, want);
                Tensor dy = Data.atOffset(b, 0);
                cpu.activationBackward(Op.RELU, x, dy, dy);
                assertClose(dy, want, Tolerance.EXACT, "relu backward dx==dy n=" + n);
            }
        }
    }

    @Test
    void honoursElementOffsets() {
        try (Scope s = Scope.open()) {
            Tensor a = Data.normal(1, 1, 1003), b = Data.normal(2, 1, 1003);
            Tensor want = Data.emptyLike(a);
            ref.binary(Op.MUL, a, b, want);
            Tensor y = Data.atOffset(Tensor.zeros(DType.F32, 1003), 5);
            cpu.binary(Op.MUL, Data.atOffset(a, 3), Data.atOffset(b, 1), y);
            assertClose(y, want, Tolerance.EXACT, "mul at offsets");
        }
    }

    @Test
    void rejectsOtherDtypesWithAClearMessage() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(DType.F64, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> cpu.unary(Op.RELU, x, 0, x));
            assertTrue(e.getMessage().contains("F64"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> cpu.unary(Op.ADD, Tensor.zeros(DType.F32, 2), 0, Tensor.zeros(DType.F32, 2)));
            assertTrue(e2.getMessage().contains("ADD"), e2.getMessage());
        }
    }
}

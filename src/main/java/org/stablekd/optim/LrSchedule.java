package org.stablekd.optim;

import java.util.Arrays;

/**
 * A learning rate as a pure function of training progress (epoch + fraction of it), so a resumed
 * run continues exactly. Compose: {@code new Warmup(new MultiStep(0.05, 0.1, 150, 180, 210), 5)}.
 */
public interface LrSchedule {
    /** The rate at {@code epoch} (0-based) after {@code fraction} ∈ [0,1) of its steps. */
    double at(int epoch, double fraction);

    /** base · gamma^(number of milestones ≤ epoch) (PyTorch MultiStepLR, stepped per epoch). */
    record MultiStep(double base, double gamma, int... milestones) implements LrSchedule {
        @Override
        public double at(int epoch, double fraction) {
            int passed = (int) Arrays.stream(milestones).filter(m -> m <= epoch).count();
            return base * Math.pow(gamma, passed);
        }

        @Override
        public String toString() {
            return "multistep x" + gamma + " at epochs " + Arrays.toString(Arrays.stream(milestones).map(m -> m + 1).toArray());
        }
    }

    /** Cosine from base to min over {@code epochs}, evaluated per step. */
    record Cosine(double base, double min, int epochs) implements LrSchedule {
        @Override
        public double at(int epoch, double fraction) {
            double t = Math.min(1, (epoch + fraction) / epochs);
            return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
        }

        @Override
        public String toString() {
            return "cosine to " + min + " over " + epochs + " epochs";
        }
    }

    /** Linear ramp from 0 to {@code inner}'s rate over the first {@code epochs} epochs, per step. */
    record Warmup(LrSchedule inner, double epochs) implements LrSchedule {
        @Override
        public double at(int epoch, double fraction) {
            double t = epoch + fraction;
            double r = inner.at(epoch, fraction);
            return t < epochs ? r * (t + 1e-9) / epochs : r;
        }

        @Override
        public String toString() {
            return inner + ", linear warm-up over " + epochs + " epochs";
        }
    }

    /** A constant rate. */
    record Constant(double lr) implements LrSchedule {
        @Override
        public double at(int epoch, double fraction) {
            return lr;
        }

        @Override
        public String toString() {
            return "constant";
        }
    }
}

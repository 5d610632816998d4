package org.stablekd.optim;

/**
 * A learning-rate recipe independent of the run length, so it can be laid over a whole run or
 * restarted over each StableKD stage: multistep divides by 10 at fixed fractions of the epochs
 * (the CIFAR recipe's 150/180/210 of 240 = 62.5/75/87.5 %), cosine anneals to 0.
 */
public record LrSpec(String kind, double base, double[] milestoneFractions, double warmupEpochs) {
    public static final double[] CIFAR_FRACTIONS = {0.625, 0.75, 0.875};

    public LrSpec {
        if (!(kind.equals("multistep") || kind.equals("cosine") || kind.equals("constant"))) {
            throw new IllegalArgumentException("learning-rate schedule must be multistep, cosine or constant, not " + kind);
        }
        if (!(base > 0)) throw new IllegalArgumentException("learning rate must be positive, got " + base);
    }

    public static LrSpec multistep(double base) {
        return new LrSpec("multistep", base, CIFAR_FRACTIONS, 0);
    }

    /** The schedule for a run (or stage) of {@code epochs} epochs. */
    public LrSchedule build(int epochs) {
        LrSchedule s = switch (kind) {
            case "multistep" -> {
                int[] m = new int[milestoneFractions.length];
                for (int i = 0; i < m.length; i++) m[i] = (int) Math.round(epochs * milestoneFractions[i]);
                yield new LrSchedule.MultiStep(base, 0.1, m);
            }
            case "cosine" -> new LrSchedule.Cosine(base, 0, epochs);
            default -> new LrSchedule.Constant(base);
        };
        return warmupEpochs > 0 ? new LrSchedule.Warmup(s, warmupEpochs) : s;
    }
}

package org.stablekd.data;

import org.stablekd.tensor.Rng;

/**
 * Seeds derived from the run seed, so every random choice of the loader is a pure function of
 * (seed, epoch, sample) and never of thread timing or of how far an earlier epoch got: the
 * shuffle of epoch e uses {@code Rng(derive(seed, SHUFFLE, e))}, the augmentation of dataset
 * sample i in epoch e uses {@code Rng(derive(seed, AUGMENT, e, i))}. Mixing is splitmix64.
 */
final class Seeds {
    static final long SHUFFLE = 0x5348554646L;   // "SHUFF"
    static final long AUGMENT = 0x4155474DL;     // "AUGM"

    private Seeds() {}

    static long splitmix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static long derive(long seed, long tag, long a) {
        return splitmix(splitmix(splitmix(seed) ^ tag) ^ a);
    }

    static long derive(long seed, long tag, long a, long b) {
        return splitmix(derive(seed, tag, a) ^ b);
    }

    static Rng shuffleRng(long seed, int epoch) {
        return new Rng(derive(seed, SHUFFLE, epoch));
    }

    static Rng sampleRng(long seed, int epoch, int sample) {
        return new Rng(derive(seed, AUGMENT, epoch, sample));
    }
}

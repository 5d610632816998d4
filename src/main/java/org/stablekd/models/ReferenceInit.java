package org.stablekd.models;

import java.util.function.Consumer;
import org.stablekd.nn.Conv2d;
import org.stablekd.nn.Linear;
import org.stablekd.nn.Module;
import org.stablekd.tensor.Rng;

/**
 * The reference codes' initialization loops ({@code for m in self.modules(): ...}): visit every
 * conv or linear layer in registration order and initialize it. BatchNorm layers are created
 * with γ=1, β=0, which is what every reference sets.
 */
final class ReferenceInit {
    private ReferenceInit() {}

    static void convs(Module root, Consumer<Conv2d> init) {
        visit(root, Conv2d.class, init);
    }

    static void linears(Module root, Consumer<Linear> init) {
        visit(root, Linear.class, init);
    }

    /**
     * kaiming_normal_(fan_out, relu) = N(0, √(2/(k·k·C_out))): also WRN's, VGG's and
     * MobileNetV2's {@code normal_(0, √(2/n))} with n = k·k·C_out. Biases stay 0.
     */
    static void convsKaimingFanOut(Module root, Rng rng) {
        convs(root, c -> c.kaimingFanOut(rng));
    }

    /** Linear weight N(0, std), bias 0 (VGG, MobileNetV2: std 0.01). */
    static void linearsNormal(Module root, Rng rng, double std) {
        linears(root, l -> org.stablekd.nn.Init.normal(l.weight().value(), rng, std));
    }

    private static <T extends Module> void visit(Module m, Class<T> type, Consumer<T> init) {
        if (type.isInstance(m)) init.accept(type.cast(m));
        for (Module c : m.children().values()) visit(c, type, init);
    }
}

package org.stablekd.models;

import org.stablekd.tensor.Shape;

/** Input-shape arithmetic and the "this model cannot take that input" message. */
final class Inputs {
    private Inputs() {}

    /** PyTorch's output size of a conv or pool along one axis (floor mode). */
    static int out(int size, int kernel, int stride, int padding) {
        return Math.floorDiv(size + 2 * padding - kernel, stride) + 1;
    }

    /** Checks that {@code input} is (C,H,W) with positive sizes; returns it. */
    static Shape chw(String model, Shape input) {
        if (input == null || input.rank() != 3 || input.dim(0) < 1 || input.dim(1) < 1 || input.dim(2) < 1) {
            throw new IllegalArgumentException(model + ": the input shape must be (C,H,W) with positive sizes, got " + input);
        }
        return input;
    }

    static void require(boolean ok, String model, Shape input, String why) {
        if (!ok) {
            throw new IllegalArgumentException(model + " cannot take input " + show(input) + ": " + why);
        }
    }

    /** C×H×W. */
    static String show(Shape s) {
        return s.dim(0) + "×" + s.dim(1) + "×" + s.dim(2);
    }

    static void requireClasses(String model, int classes) {
        if (classes < 1) throw new IllegalArgumentException(model + ": the number of classes must be at least 1, got " + classes);
    }

    /**
     * The CIFAR ResNet / WRN head: {@code AvgPool2d(8)} after two stride-2 stages must leave a
     * 1×1 map, so the last feature map is 8..15 pixels on each side (H, W in 29..60).
     */
    static void requireAvgPool8Head(String model, Shape input) {
        int h = out(out(input.dim(1), 3, 2, 1), 3, 2, 1), w = out(out(input.dim(2), 3, 2, 1), 3, 2, 1);
        require(h >= 8 && h <= 15 && w >= 8 && w <= 15, model, input,
                "its head AvgPool2d(8) needs the last feature map (here " + h + "×" + w + ", a quarter of H×W) to be 8..15 pixels"
                        + " on each side, i.e. H and W in 29..60; 32×32 is standard (pad Fashion-MNIST's 28×28 to 32×32)");
    }

    /** Both ShuffleNets: three stride-2 stages (sizes round up) then AvgPool2d(4) must leave 1×1. */
    static void requireAvgPool4Head(String name, Shape input) {
        int h = input.dim(1), w = input.dim(2);
        for (int i = 0; i < 3; i++) {
            h = out(h, 3, 2, 1);
            w = out(w, 3, 2, 1);
        }
        require(h >= 4 && h <= 7 && w >= 4 && w <= 7, name, input,
                "its head AvgPool2d(4) needs the last feature map (here " + h + "×" + w + ", an eighth of H×W) to be 4..7 pixels"
                        + " on each side, i.e. H and W in 25..56; 32×32 is standard");
    }
}

package org.stablekd.models;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.stablekd.nn.Model;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Shape;

/**
 * The model registry: every network of the zoo (docs/design.md, The zoo) by its benchmark name.
 * Names are case-sensitive and follow the reference code: {@code ResNet18}/{@code ResNet34}/
 * {@code ResNet50} are the CIFAR ResNets of RepDistiller's resnetv2.py, {@code resnet18}/
 * {@code resnet34} the ImageNet ResNets of torchvision.
 *
 * <pre>{@code Model m = Zoo.create("resnet8x4", 100, Shape.of(3, 32, 32), new Rng(0));}</pre>
 */
public final class Zoo {
    private Zoo() {}

    private static final Shape CIFAR = Shape.of(3, 32, 32);
    private static final Shape IMAGENET = Shape.of(3, 224, 224);

    /** Builds one model: (registry name, classes, input (C,H,W), rng). */
    @FunctionalInterface
    interface Factory {
        Model create(String name, int numClasses, Shape input, Rng rng);
    }

    /** A registered model: its name, a one-line description, its standard input (C,H,W). */
    public record Entry(String name, String description, Shape standardInput) {}

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();
    private static final Map<String, Factory> FACTORIES = new LinkedHashMap<>();

    static {
        for (int depth : new int[] {8, 14, 20, 32, 44, 56, 110}) {
            add("resnet" + depth, "CIFAR ResNet-" + depth + " (RepDistiller resnet.py), filters 16/16/32/64, " + (depth - 2) / 6
                    + " basic blocks per stage; input H,W 29..60", CIFAR, (n, c, in, r) -> new CifarResNet(n, depth, CifarResNet.FILTERS, c, in, r));
        }
        add("resnet8x4", "CIFAR ResNet-8 ×4 wide (resnet.py), filters 32/64/128/256, 1 block per stage; input H,W 29..60", CIFAR,
                (n, c, in, r) -> new CifarResNet(n, 8, CifarResNet.FILTERS_X4, c, in, r));
        add("resnet32x4", "CIFAR ResNet-32 ×4 wide (resnet.py), filters 32/64/128/256, 5 blocks per stage; input H,W 29..60", CIFAR,
                (n, c, in, r) -> new CifarResNet(n, 32, CifarResNet.FILTERS_X4, c, in, r));
        for (int[] dk : new int[][] {{16, 1}, {16, 2}, {40, 1}, {40, 2}}) {
            add("wrn_" + dk[0] + "_" + dk[1], "Wide ResNet-" + dk[0] + "-" + dk[1] + " (RepDistiller wrn.py), pre-activation blocks, channels 16/"
                    + 16 * dk[1] + "/" + 32 * dk[1] + "/" + 64 * dk[1] + "; input H,W 29..60", CIFAR,
                    (n, c, in, r) -> new WideResNet(n, dk[0], dk[1], c, in, r));
        }
        add("vgg8", "VGG-8 with BN (RepDistiller vgg.py vgg8_bn), blocks [64][128][256][512][512]; input H,W >= 8", CIFAR,
                (n, c, in, r) -> new Vgg(n, Vgg.VGG8, c, in, r));
        add("vgg11", "VGG-11 with BN (vgg.py vgg11_bn), blocks [64][128][256x2][512x2][512x2]; input H,W >= 8", CIFAR,
                (n, c, in, r) -> new Vgg(n, Vgg.VGG11, c, in, r));
        add("vgg13", "VGG-13 with BN (vgg.py vgg13_bn), blocks [64x2][128x2][256x2][512x2][512x2]; input H,W >= 8", CIFAR,
                (n, c, in, r) -> new Vgg(n, Vgg.VGG13, c, in, r));
        add("mobile_half", "MobileNetV2 expansion 6, width 0.5 (RepDistiller mobilenetv2.py); square input, side a multiple of 32", CIFAR,
                (n, c, in, r) -> new MobileNetV2(n, 6, 0.5, c, in, r));
        add("ShuffleV1", "ShuffleNetV1 groups 3, 240/480/960 x 4/8/4, CIFAR 1x1 stem (ShuffleNetv1.py); input H,W 25..56", CIFAR,
                (n, c, in, r) -> new ShuffleNetV1(n, new int[] {240, 480, 960}, new int[] {4, 8, 4}, 3, c, in, r));
        add("ShuffleV2", "ShuffleNetV2 1x, 116/232/464 x 3/7/3, head 1024, CIFAR 1x1 stem (ShuffleNetv2.py); input H,W 25..56", CIFAR,
                (n, c, in, r) -> new ShuffleNetV2(n, new int[] {116, 232, 464, 1024}, new int[] {3, 7, 3}, c, in, r));
        add("ResNet18", "ResNet-18 for CIFAR (RepDistiller resnetv2.py): 3x3 stem, no max-pool, basic blocks 2/2/2/2; any input size", CIFAR,
                (n, c, in, r) -> new CifarResNetV2(n, false, CifarResNetV2.RESNET18, c, in, r));
        add("ResNet34", "ResNet-34 for CIFAR (resnetv2.py): 3x3 stem, no max-pool, basic blocks 3/4/6/3; any input size", CIFAR,
                (n, c, in, r) -> new CifarResNetV2(n, false, CifarResNetV2.RESNET34, c, in, r));
        add("ResNet50", "ResNet-50 for CIFAR (resnetv2.py): 3x3 stem, no max-pool, bottlenecks 3/4/6/3; any input size", CIFAR,
                (n, c, in, r) -> new CifarResNetV2(n, true, CifarResNetV2.RESNET50, c, in, r));
        add("resnet18", "ImageNet ResNet-18 (torchvision layout): 7x7/2 stem + max-pool, basic blocks 2/2/2/2; any input size, 224 standard", IMAGENET,
                (n, c, in, r) -> new TorchvisionResNet(n, TorchvisionResNet.RESNET18, c, in, r));
        add("resnet34", "ImageNet ResNet-34 (torchvision layout): 7x7/2 stem + max-pool, basic blocks 3/4/6/3; any input size, 224 standard", IMAGENET,
                (n, c, in, r) -> new TorchvisionResNet(n, TorchvisionResNet.RESNET34, c, in, r));
    }

    private static void add(String name, String description, Shape standardInput, Factory factory) {
        ENTRIES.put(name, new Entry(name, description, standardInput));
        FACTORIES.put(name, factory);
    }

    /** Every registered name, in registry order. */
    public static List<String> names() {
        return List.copyOf(ENTRIES.keySet());
    }

    /** The registry entry of {@code name} (unknown names fail as in {@link #create}). */
    public static Entry entry(String name) {
        Entry e = ENTRIES.get(name);
        if (e == null) throw new IllegalArgumentException(unknownMessage(name));
        return e;
    }

    /** The one-line description of {@code name}. */
    public static String description(String name) {
        return entry(name).description();
    }

    /** The input the model was designed for (C,H,W): 3×32×32 for CIFAR models, 3×224×224 for the ImageNet ones. */
    public static Shape standardInput(String name) {
        return entry(name).standardInput();
    }

    /**
     * A freshly initialized model (the reference's initialization, drawn from {@code rng}) for
     * {@code numClasses} classes and one input image of shape {@code input} (C,H,W). Fails with
     * one message when the name is unknown or the model cannot take the input.
     */
    public static Model create(String name, int numClasses, Shape input, Rng rng) {
        entry(name);
        return FACTORIES.get(name).create(name, numClasses, input, rng);
    }

    /** {@link #create} with the model's standard input. */
    public static Model create(String name, int numClasses, Rng rng) {
        return create(name, numClasses, standardInput(name), rng);
    }

    static String unknownMessage(String name) {
        List<String> near = nearNames(name);
        return "unknown model '" + name + "'" + (near.isEmpty() ? "." : "; did you mean " + String.join(" or ", near) + "?")
                + " Valid names: " + String.join(", ", ENTRIES.keySet());
    }

    /**
     * The registered names closest to {@code name} when compared ignoring case, '_' and '-':
     * all at the smallest edit distance, if that distance is at most 2 (and a third of the name).
     */
    static List<String> nearNames(String name) {
        List<String> out = new ArrayList<>();
        if (name == null) return out;
        String key = normalize(name);
        int best = Math.min(2, key.length() / 3);
        for (String n : ENTRIES.keySet()) {
            int d = editDistance(normalize(n), key);
            if (d < best) out.clear();
            if (d <= best) {
                best = d;
                out.add(n);
            }
        }
        return Collections.unmodifiableList(out);
    }

    private static String normalize(String s) {
        return s.toLowerCase(Locale.ROOT).replace("_", "").replace("-", "");
    }

    private static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}

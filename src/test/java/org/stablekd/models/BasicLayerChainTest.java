package org.stablekd.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.autograd.Autograd;
import org.stablekd.backend.WeightCache;
import org.stablekd.nn.BatchNormFolding;
import org.stablekd.nn.Model;
import org.stablekd.nn.Module;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Shape;
import org.stablekd.tensor.Tensor;
import org.stablekd.testing.Close;

/**
 * A layer of basic blocks at inference: once the BatchNorms are folded, the blocks with identity
 * shortcuts are chainable and the layer (one Conv.residualChain per run of them) gives the bits
 * of its blocks called one by one; in training mode nothing is chainable.
 */
class BasicLayerChainTest {
    @Test
    void foldedLayersGiveTheBitsOfTheirBlocks() {
        Model m = Zoo.create("resnet20", 10, Shape.of(3, 32, 32), new Rng(11));
        try (Restore ng = Autograd.noGrad(); Scope s = Scope.open()) {
            for (int i = 0; i < 3; i++) m.forward(Tensor.randn(new Rng(20 + i), DType.F32, 1.5, 4, 3, 32, 32));   // BatchNorm statistics
            for (String name : new String[] {"layer1", "layer2", "layer3"}) {
                for (Module b : ((ResidualBlocks.BasicLayer) m.children().get(name)).layers()) {
                    assertFalse(((ResidualBlocks.Basic) b).chainable(), "unfolded " + name);
                }
            }
            BatchNormFolding.fold(m);
            int[][] inputs = {{16, 32, 32}, {16, 32, 32}, {32, 16, 16}};
            String[] names = {"layer1", "layer2", "layer3"};
            for (int l = 0; l < 3; l++) {
                ResidualBlocks.BasicLayer layer = (ResidualBlocks.BasicLayer) m.children().get(names[l]);
                int chainable = 0;
                for (Module b : layer.layers()) chainable += ((ResidualBlocks.Basic) b).chainable() ? 1 : 0;
                assertEquals(l == 0 ? 3 : 2, chainable, names[l] + ": identity blocks chainable once folded, the projection block not");
                for (int n : new int[] {1, 3}) {
                    Tensor x = Tensor.uniform(new Rng(l * 10L + n), DType.F32, 0, 1, n, inputs[l][0], inputs[l][1], inputs[l][2]);
                    Tensor oneByOne = x;
                    for (Module b : layer.layers()) oneByOne = b.forward(oneByOne);
                    Close.assertBitIdentical(oneByOne.toFloatArray(), layer.forward(x).toFloatArray(), names[l] + " at batch " + n);
                    Tensor[] cached = new Tensor[2];   // the blocks one by one, then the layer, both under one cache (wide layers change path)
                    WeightCache cache = new WeightCache();
                    cache.run(() -> {
                        Tensor t = x;
                        for (Module b : layer.layers()) t = b.forward(t);
                        cached[0] = t;
                        cached[1] = layer.forward(x);
                    });
                    Close.assertBitIdentical(cached[0].toFloatArray(), cached[1].toFloatArray(), names[l] + " at batch " + n + " under a WeightCache");
                }
            }
            assertTrue(m.children().get("layer1") instanceof ResidualBlocks.BasicLayer);
        }
    }
}

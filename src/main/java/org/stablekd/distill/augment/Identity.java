package org.stablekd.distill.augment;

import org.stablekd.distill.Teacher;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** See {@link BatchAugment#identity()}. */
final class Identity implements BatchAugment {
    static final Identity INSTANCE = new Identity();

    private Identity() {}

    @Override
    public String name() {
        return "none";
    }

    @Override
    public Mixed apply(Tensor images, Tensor labels, Teacher teacher, Rng rng) {
        HostBatch.check(images, labels);
        return Mixed.unchanged(images, labels);
    }

    @Override
    public String toString() {
        return "none";
    }
}

package org.stablekd.models;

import org.stablekd.nn.Model;

/** Shared stage plumbing. */
final class Stages {
    private Stages() {}

    static IndexOutOfBoundsException noSuchStage(Model m, int i) {
        return new IndexOutOfBoundsException(m.name() + " has stages 0.." + (m.stageCount() - 1) + " " + m.stageNames() + ", asked for stage " + i);
    }
}

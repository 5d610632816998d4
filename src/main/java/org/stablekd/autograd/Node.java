package org.stablekd.autograd;

import org.stablekd.backend.Op;
import org.stablekd.tensor.GradNode;
import org.stablekd.tensor.Tensor;

/**
 * One recorded op: its inputs (null for an absent optional input such as a bias), which of them
 * need a gradient, the op's attributes, and the tensors its backward needs beyond the inputs.
 * Saved tensors are dropped as soon as the node's backward has run.
 */
public final class Node implements GradNode {
    private final Op op;
    private final Object attrs;
    private Tensor[] inputs;
    private final boolean[] needsGrad;
    private Tensor[] saved;
    private boolean released;

    Node(Op op, Object attrs, Tensor[] inputs, boolean[] needsGrad, Tensor[] saved) {
        this.op = op;
        this.attrs = attrs;
        this.inputs = inputs;
        this.needsGrad = needsGrad;
        this.saved = saved;
    }

    public Op op() { return op; }

    @Override
    public String opName() { return op.name().toLowerCase(); }

    /** The op's attributes (a geometry, a temperature, …); see each op's frontend. */
    public Object attrs() { return attrs; }

    public int inputCount() { return inputs.length; }

    public Tensor input(int i) { return inputs[i]; }

    /** Whether input {@code i}'s gradient must be computed. */
    public boolean needs(int i) { return needsGrad[i]; }

    public Tensor saved(int i) { return saved[i]; }

    boolean released() { return released; }

    /** Drops the saved tensors and input references once the backward has used them. */
    void release() {
        released = true;
        saved = null;
        inputs = new Tensor[inputs.length];
    }
}

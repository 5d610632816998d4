package org.stablekd.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.backend.Backends;
import org.stablekd.backend.Op;
import org.stablekd.ops.Memory;
import org.stablekd.tensor.GradNode;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * Reverse-mode autodiff over the recorded graph (the tape): each op output produced while grad
 * mode is on and some input requires a gradient points to a {@link Node}. {@link #backward} walks
 * the nodes reachable from the loss in reverse topological order, asks {@link Derivatives} for
 * each node's input gradients (only those flagged as needed), sums gradients that meet, and
 * accumulates into the {@code grad} of leaf tensors. See NOTES.md, Note [Autograd].
 */
public final class Autograd {
    private static final ThreadLocal<Boolean> GRAD_ENABLED = ThreadLocal.withInitial(() -> Boolean.TRUE);

    private Autograd() {}

    public static boolean gradEnabled() {
        return GRAD_ENABLED.get();
    }

    /** Until closed, ops on this thread record nothing (a frozen teacher, evaluation). */
    public static Restore noGrad() {
        boolean previous = GRAD_ENABLED.get();
        GRAD_ENABLED.set(Boolean.FALSE);
        return () -> GRAD_ENABLED.set(previous);
    }

    /** True if an op over these inputs will be recorded (so it should save what its backward needs). */
    public static boolean needsGrad(Tensor... inputs) {
        if (!gradEnabled()) return false;
        for (Tensor t : inputs) if (t != null && t.requiresGrad()) return true;
        return false;
    }

    /** Records {@code out} as the result of {@code op} if any input requires a gradient; returns {@code out}. */
    public static Tensor record(Op op, Tensor out, Object attrs, Tensor[] inputs, Tensor... saved) {
        if (!op.differentiable()) throw new IllegalArgumentException(op.name().toLowerCase() + " is not differentiable and is never recorded");
        if (!gradEnabled()) return out;
        boolean[] needs = new boolean[inputs.length];
        boolean any = false;
        for (int i = 0; i < inputs.length; i++) {
            needs[i] = inputs[i] != null && inputs[i].requiresGrad();
            any |= needs[i];
        }
        if (any) out.setGradFn(new Node(op, attrs, inputs.clone(), needs, saved));
        return out;
    }

    /** Backward from a one-element tensor (a loss), seeded with 1. */
    public static void backward(Tensor root) {
        if (root.numel() != 1) {
            throw new IllegalArgumentException("backward() needs a one-element loss, got shape " + root.shape()
                    + "; pass the output gradient with backward(root, grad)");
        }
        Tensor one = Tensor.emptyLike(root);
        Memory.fill(one, 1);
        backward(root, one);
    }

    /** Backward from {@code root} with output gradient {@code gradRoot} (same shape). */
    public static void backward(Tensor root, Tensor gradRoot) {
        backward(root, gradRoot, null);
    }

    /** Told when a leaf's gradient is final for this backward: every use of it has been accumulated. */
    @FunctionalInterface
    public interface LeafListener {
        void gradientReady(Tensor leaf);
    }

    /**
     * As {@link #backward(Tensor, Tensor)}, calling {@code listener} (may be null) as each leaf's
     * gradient becomes final, in backward order: the data-parallel reducer starts all-reducing a
     * bucket of gradients while the rest of the backward pass runs. Leaves the graph does not reach
     * are never reported.
     */
    public static void backward(Tensor root, Tensor gradRoot, LeafListener listener) {
        if (!root.requiresGrad()) {
            throw new IllegalArgumentException("backward(): the tensor does not require a gradient; "
                    + "no input of its computation had requiresGrad(true) (or it was computed under noGrad)");
        }
        if (!gradRoot.shape().equals(root.shape())) {
            throw new IllegalArgumentException("backward(): gradient shape " + gradRoot.shape() + " differs from the tensor's " + root.shape());
        }
        try (Restore ignored = noGrad()) {
            if (root.isLeaf()) {
                accumulateLeaf(root, gradRoot);
                if (listener != null) listener.gradientReady(root);
                return;
            }
            List<Node> order = topologicalOrder((Node) root.gradFn());
            Map<Tensor, int[]> pendingUses = listener == null ? null : leafUses(order);
            Map<Node, Tensor> grads = new IdentityHashMap<>();
            grads.put((Node) root.gradFn(), gradRoot);
            for (int idx = order.size() - 1; idx >= 0; idx--) {
                Node node = order.get(idx);
                Tensor g = grads.remove(node);
                if (g == null) continue;
                Tensor[] offered = pendingSums(node, grads), pending = offered.clone();
                Tensor[] inputGrads = Derivatives.backward(node, g, pending);
                for (int i = 0; i < node.inputCount(); i++) {
                    if (!node.needs(i)) continue;
                    Tensor in = node.input(i);
                    Tensor gi = inputGrads[i];
                    if (gi == null || !gi.shape().equals(in.shape())) {
                        throw new IllegalStateException("derivative of " + node.opName() + " for input " + i + " has shape "
                                + (gi == null ? "null" : gi.shape()) + ", expected " + in.shape());
                    }
                    if (in.isLeaf()) {
                        accumulateLeaf(in, gi);
                        if (pendingUses != null && --pendingUses.get(in)[0] == 0) listener.gradientReady(in);
                    } else {
                        Node producer = (Node) in.gradFn();
                        Tensor prev = grads.get(producer);
                        boolean folded = offered[i] != null && pending[i] == null;   // the rule added prev into gi already
                        if (folded && prev != offered[i]) {
                            throw new IllegalStateException("derivative of " + node.opName() + " folded a gradient sum for input " + i
                                    + " that another input changed first");
                        }
                        // Out of place: a derivative may hand the same tensor to several inputs.
                        grads.put(producer, prev == null || folded ? gi : add(prev, gi));
                    }
                }
                node.release();
            }
        }
    }

    /** For each input of node that needs a gradient and is not a leaf: the gradient summed for it so far, else null. */
    private static Tensor[] pendingSums(Node node, Map<Node, Tensor> grads) {
        Tensor[] pending = new Tensor[node.inputCount()];
        for (int i = 0; i < pending.length; i++) {
            Tensor in = node.input(i);
            if (in != null && node.needs(i) && !in.isLeaf()) pending[i] = grads.get((Node) in.gradFn());
        }
        return pending;
    }

    /** Post-order of the nodes reachable from {@code root} (inputs before the ops that use them). */
    private static List<Node> topologicalOrder(Node root) {
        List<Node> order = new ArrayList<>();
        Map<Node, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>(); // {node, next input index}
        stack.push(new Object[] {root, 0});
        visited.put(root, Boolean.TRUE);
        if (root.released()) throw secondBackward(root);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Node node = (Node) top[0];
            int i = (Integer) top[1];
            if (i < node.inputCount()) {
                top[1] = i + 1;
                Tensor in = node.input(i);
                if (in == null || !node.needs(i)) continue;
                GradNode gf = in.gradFn();
                if (gf instanceof Node child && visited.put(child, Boolean.TRUE) == null) {
                    if (child.released()) throw secondBackward(child);
                    stack.push(new Object[] {child, 0});
                }
            } else {
                stack.pop();
                order.add(node);
            }
        }
        return order;
    }

    /** For each leaf that needs a gradient: how many node inputs will accumulate into it (by identity). */
    private static Map<Tensor, int[]> leafUses(List<Node> order) {
        Map<Tensor, int[]> uses = new IdentityHashMap<>();
        for (Node node : order) {
            for (int i = 0; i < node.inputCount(); i++) {
                Tensor in = node.input(i);
                if (in != null && node.needs(i) && in.isLeaf()) uses.computeIfAbsent(in, k -> new int[1])[0]++;
            }
        }
        return uses;
    }

    private static IllegalStateException secondBackward(Node n) {
        return new IllegalStateException("backward() through " + n.opName()
                + " a second time: its saved tensors were freed by the first backward; run the forward again");
    }

    private static Tensor add(Tensor a, Tensor b) {
        Tensor out = Tensor.emptyLike(a);
        Backends.select(Op.ADD, a.dtype(), a.device()).pointwise().binary(Op.ADD, a, b, out);
        return out;
    }

    /** leaf.grad += g; a first gradient is copied into storage that outlives any scope. */
    private static void accumulateLeaf(Tensor leaf, Tensor g) {
        Tensor grad = leaf.grad();
        if (grad == null) {
            try (Restore ignored = Scope.suspend()) {
                grad = Tensor.emptyLike(leaf);
            }
            Memory.copy(g, grad);
            leaf.setGrad(grad);
        } else {
            Backends.select(Op.ADD, grad.dtype(), grad.device()).pointwise().axpy(grad, 1, g, grad);
        }
    }
}

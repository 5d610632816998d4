package org.stablekd.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.stablekd.backend.Transfers;
import org.stablekd.tensor.Device;
import org.stablekd.tensor.Restore;
import org.stablekd.tensor.Scope;
import org.stablekd.tensor.Tensor;

/**
 * A layer or a network: named parameters, buffers and child modules, and a forward pass.
 * Names compose with dots exactly like PyTorch module paths ({@code layer1.0.conv1.weight}), so
 * a PyTorch state dict saved as safetensors loads by name (see {@link StateDict}).
 */
public abstract class Module {
    private final LinkedHashMap<String, Parameter> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Buffer> buffers = new LinkedHashMap<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** The module's computation for one input. */
    public abstract Tensor forward(Tensor x);

    // ---------------------------------------------------------------- registration (constructors)

    protected final Parameter param(String name, Tensor initial) {
        checkName(name);
        Parameter p = new Parameter(initial);
        params.put(name, p);
        return p;
    }

    protected final Buffer buffer(String name, Tensor initial) {
        checkName(name);
        Buffer b = new Buffer(initial);
        buffers.put(name, b);
        return b;
    }

    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".") || params.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("bad or duplicate member name '" + name + "' in " + getClass().getSimpleName());
        }
    }

    // ---------------------------------------------------------------- mode

    /** Training mode (batch statistics, updated running stats) or eval mode; applies to all children. */
    public Module train(boolean on) {
        training = on;
        for (Module c : children.values()) c.train(on);
        return this;
    }

    public Module eval() {
        return train(false);
    }

    public boolean isTraining() {
        return training;
    }

    // ---------------------------------------------------------------- placement

    /**
     * Moves every parameter and floating buffer (with the inference-only folded weights) to
     * {@code device}: each becomes its own copy there, outside any scope; gradients are not
     * carried. Integer buffers (BatchNorm's num_batches_tracked) stay on the host: the forward
     * bumps that counter there and a training step must not copy it. Returns this.
     */
    public Module to(Device device) {
        try (Restore unscoped = Scope.suspend()) {
            moveTo(device);
        }
        return this;
    }

    private void moveTo(Device device) {
        for (Parameter p : params.values()) {
            if (!p.value().device().equals(device)) p.rebind(Transfers.to(p.value(), device));
        }
        for (Buffer b : buffers.values()) {
            if (b.value().dtype().floating && !b.value().device().equals(device)) b.rebind(Transfers.to(b.value(), device));
        }
        moveExtras(device);
        for (Module c : children.values()) c.moveTo(device);
    }

    /** Tensors a module holds outside its parameters and buffers (Conv2d's folded weights) move here. */
    void moveExtras(Device device) {}

    /** The device of the parameters (the host for a module without any); fails if they are spread over several. */
    public Device device() {
        Device d = null;
        for (var e : namedParameters().entrySet()) {
            Device pd = e.getValue().value().device();
            if (d == null) d = pd;
            else if (!d.equals(pd)) throw new IllegalStateException("parameters on " + d + " and " + pd + " (" + e.getKey() + "); move the module with to(device)");
        }
        return d == null ? Device.CPU : d;
    }

    // ---------------------------------------------------------------- traversal

    public Map<String, Module> children() {
        return java.util.Collections.unmodifiableMap(children);
    }

    /** All parameters with their dotted paths, in registration order (depth first). */
    public Map<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        collect("", out, null);
        return out;
    }

    /** All buffers with their dotted paths. */
    public Map<String, Buffer> namedBuffers() {
        LinkedHashMap<String, Buffer> out = new LinkedHashMap<>();
        collect("", null, out);
        return out;
    }

    private void collect(String prefix, Map<String, Parameter> ps, Map<String, Buffer> bs) {
        if (ps != null) params.forEach((n, p) -> ps.put(prefix + n, p));
        if (bs != null) buffers.forEach((n, b) -> bs.put(prefix + n, b));
        children.forEach((n, c) -> c.collect(prefix + n + ".", ps, bs));
    }

    public List<Parameter> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Number of trainable scalars. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : namedParameters().values()) n += p.value().numel();
        return n;
    }

    /** Parameters then buffers by dotted name, as PyTorch's state_dict() (values, not copies). */
    public Map<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        stateInto("", out);
        return out;
    }

    private void stateInto(String prefix, Map<String, Tensor> out) {
        params.forEach((n, p) -> out.put(prefix + n, p.value()));
        buffers.forEach((n, b) -> out.put(prefix + n, b.value()));
        children.forEach((n, c) -> c.stateInto(prefix + n + ".", out));
    }
}

package org.stablekd.nn;

import java.util.Map;
import org.stablekd.tensor.Tensor;

/**
 * Several modules trained together (a student and its connectors) seen as one, so their
 * parameters share one {@link ParameterSlab}; names become {@code role.path} (dots in a role
 * become underscores).
 */
public final class ModuleGroup extends Module {
    public ModuleGroup(Map<String, Module> parts) {
        parts.forEach((role, m) -> child(role.replace('.', '_'), m));
    }

    @Override
    public Tensor forward(Tensor x) {
        throw new UnsupportedOperationException("a module group has no forward");
    }
}

package org.stablekd.tensor;

/** The autograd record that produced a tensor (implemented in {@code org.stablekd.autograd}). */
public interface GradNode {
    /** The op's name, for error messages. */
    String opName();
}

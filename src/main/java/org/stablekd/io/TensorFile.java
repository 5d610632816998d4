package org.stablekd.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.tensor.Tensor;

/**
 * The contents of a safetensors file: its tensors in header order and its string metadata
 * (the {@code __metadata__} entry; empty when the file has none). Both maps are unmodifiable.
 */
public record TensorFile(Map<String, Tensor> tensors, Map<String, String> metadata) {
    public TensorFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
}

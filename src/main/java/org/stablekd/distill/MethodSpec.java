package org.stablekd.distill;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.Set;

/**
 * One method of an experiment: a label (its run folder), the method name, and its parameters as
 * written in the experiment file ({@link Methods#create} reads them).
 */
public record MethodSpec(String label, String method, Map<String, JsonNode> params) {
    public double num(String key, double def) {
        JsonNode n = params.get(key);
        if (n == null) return def;
        if (!n.isNumber()) throw new IllegalArgumentException("method " + label + ": '" + key + "' must be a number, got " + n);
        return n.asDouble();
    }

    public boolean bool(String key, boolean def) {
        JsonNode n = params.get(key);
        if (n == null) return def;
        if (!n.isBoolean()) throw new IllegalArgumentException("method " + label + ": '" + key + "' must be true or false, got " + n);
        return n.asBoolean();
    }

    /** An integer list, or null when absent. */
    public int[] ints(String key) {
        JsonNode n = params.get(key);
        if (n == null) return null;
        if (!n.isArray()) throw new IllegalArgumentException("method " + label + ": '" + key + "' must be a list of integers, got " + n);
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).canConvertToInt() || !n.get(i).isIntegralNumber()) {
                throw new IllegalArgumentException("method " + label + ": '" + key + "' must hold integers, got " + n);
            }
            out[i] = n.get(i).asInt();
        }
        return out;
    }

    /** Fails on any parameter the method does not know. */
    public void allow(Set<String> keys) {
        for (String k : params.keySet()) {
            if (!keys.contains(k)) {
                throw new IllegalArgumentException("method " + label + " (" + method + ") has no parameter '" + k + "'; it takes " + new java.util.TreeSet<>(keys));
            }
        }
    }
}

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

    /** A whole number of at least {@code min}. */
    public int integer(String key, int def, int min) {
        JsonNode n = params.get(key);
        if (n == null) return def;
        if (!n.isIntegralNumber() || !n.canConvertToInt() || n.asInt() < min) {
            throw new IllegalArgumentException("method " + label + ": '" + key + "' must be a whole number of at least " + min + ", got " + n);
        }
        return n.asInt();
    }

    /** One of an enum's constants, written in lower case ("normalized_mse" for NORMALIZED_MSE). */
    public <E extends Enum<E>> E choice(String key, E def) {
        JsonNode n = params.get(key);
        if (n == null) return def;
        E[] all = def.getDeclaringClass().getEnumConstants();
        for (E e : all) if (n.isTextual() && e.name().equalsIgnoreCase(n.asText())) return e;
        java.util.List<String> names = java.util.Arrays.stream(all).map(e -> e.name().toLowerCase(java.util.Locale.ROOT)).toList();
        throw new IllegalArgumentException("method " + label + ": '" + key + "' must be one of " + names + ", got " + n);
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

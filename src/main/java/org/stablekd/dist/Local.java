package org.stablekd.dist;

import org.stablekd.tensor.Tensor;

/** One rank alone: every collective returns its input. */
public final class Local implements Communicator {
    public static final Local INSTANCE = new Local();

    private Local() {}

    @Override public int rank() { return 0; }
    @Override public int size() { return 1; }
    @Override public String name() { return "local"; }
    @Override public void allreduceSum(Tensor t) {}
    @Override public double[] allreduceSum(double[] values) { return values.clone(); }
    @Override public double[] allreduceMax(double[] values) { return values.clone(); }
    @Override public void broadcast(Tensor t, int root) {
        if (root != 0) throw new IllegalArgumentException("broadcast from rank " + root + " in a group of one");
    }
    @Override public void barrier() {}
    @Override public void abort(int exitCode) {}
    @Override public void close() {}
}

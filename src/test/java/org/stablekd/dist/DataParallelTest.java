package org.stablekd.dist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.stablekd.tensor.DType;
import org.stablekd.tensor.Rng;
import org.stablekd.tensor.Tensor;

/** The parameter check and rank 0's values, against a communicator that plays the other rank. */
class DataParallelTest {

    /** One rank of two; the other contributes {@code peer} to every max and {@code peerSum} to every sum. */
    static final class TwoRanks implements Communicator {
        final int rank;
        final double[] peer;
        final double[] peerSum;

        TwoRanks(int rank, double[] peer, double[] peerSum) {
            this.rank = rank;
            this.peer = peer;
            this.peerSum = peerSum;
        }

        @Override public int rank() { return rank; }
        @Override public int size() { return 2; }
        @Override public String name() { return "fake"; }
        @Override public void allreduceSum(Tensor t) { throw new UnsupportedOperationException(); }
        @Override public double[] allreduceSum(double[] v) {
            double[] r = v.clone();
            for (int i = 0; i < r.length; i++) r[i] += peerSum[i];
            return r;
        }
        @Override public double[] allreduceMax(double[] v) {
            double[] r = v.clone();
            for (int i = 0; i < r.length; i++) r[i] = Math.max(r[i], peer[i]);
            return r;
        }
        @Override public void broadcast(Tensor t, int root) {}
        @Override public void barrier() {}
        @Override public void abort(int code) {}
        @Override public void close() {}
    }

    @Test
    void theParameterCheckPassesOnEqualChecksumsAndStopsOnDifferentOnes() {
        Tensor w = Tensor.randn(new Rng(1), DType.F32, 1, 100);
        double c = DataParallel.checksum(w);
        DataParallel.checkIdentical(new TwoRanks(0, new double[] {c, -c}, null), w, 7);   // the peer agrees
        Tensor changed = Tensor.randn(new Rng(1), DType.F32, 1, 100);
        changed.setFlat(42, changed.getFlat(42) + 1e-6);   // one weight, one ulp-ish away
        double d = DataParallel.checksum(changed);
        assertTrue(c != d, "a changed weight changes the checksum");
        DistributedException e = assertThrows(DistributedException.class,
                () -> DataParallel.checkIdentical(new TwoRanks(0, new double[] {d, -d}, null), w, 7));
        assertTrue(e.getMessage().startsWith("the parameters differ between ranks after step 7"), e.getMessage());
    }

    @Test
    void leaderValuesAreRank0sOnEveryRank() {
        // rank 0 passes its numbers, the others zeros: the sum is rank 0's, NaN included
        double[] leader = {3, Double.NaN, -1};
        assertArrayEquals(leader, DataParallel.leaderValues(new TwoRanks(0, null, new double[] {0, 0, 0}), leader));
        // rank 1 read other files (say, no checkpoint): its own numbers are ignored
        assertArrayEquals(leader, DataParallel.leaderValues(new TwoRanks(1, null, leader), new double[] {5, 5, 5}));
    }
}

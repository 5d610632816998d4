package org.stablekd.dist;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.stablekd.io.Safetensors;
import org.stablekd.nn.BatchNorm2d;
import org.stablekd.tensor.Tensor;

/**
 * One rank of {@link SyncBatchNormMpiTest}, started by {@code mpirun -np 2}: rank r trains its
 * part ({@link SyncBatchNormTest#SPLIT}) of {@link SyncBatchNormTest}'s batches through a
 * BatchNorm2d synchronized over MPI, with and without the ReLU, and writes what it computed to
 * {@code OUT/rank-R.safetensors}. Argument: the output folder.
 */
public final class SyncBatchNormRank {
    private SyncBatchNormRank() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Communicator comm = World.get();
        int code = 0;
        try {
            if (comm.size() != SyncBatchNormTest.SPLIT.length) throw new IllegalStateException("run with -np " + SyncBatchNormTest.SPLIT.length);
            int start = 0;
            for (int r = 0; r < comm.rank(); r++) start += SyncBatchNormTest.SPLIT[r];
            Map<String, Tensor> results = new LinkedHashMap<>();
            for (boolean relu : new boolean[] {false, true}) {
                BatchNorm2d bn = SyncBatchNormTest.batchNorm();
                SyncBatchNorm.enable(bn, comm);
                SyncBatchNormTest.Result res = SyncBatchNormTest.train(bn, start, SyncBatchNormTest.SPLIT[comm.rank()], relu);
                String p = relu ? "relu." : "bn.";
                results.put(p + "y", Tensor.of(res.y(), res.y().length));
                results.put(p + "dx", Tensor.of(res.dx(), res.dx().length));
                results.put(p + "dgamma", Tensor.of(res.dgamma(), res.dgamma().length));
                results.put(p + "dbeta", Tensor.of(res.dbeta(), res.dbeta().length));
                results.put(p + "running_mean", Tensor.of(res.runMean(), res.runMean().length));
                results.put(p + "running_var", Tensor.of(res.runVar(), res.runVar().length));
            }
            Files.createDirectories(out);
            Safetensors.write(out.resolve("rank-" + comm.rank() + ".safetensors"), results, Map.of());
        } catch (Exception e) {
            System.err.println("rank " + comm.rank() + ": " + e);
            code = 1;
        }
        World.shutdown(code);
        System.exit(code);
    }
}

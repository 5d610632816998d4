package org.stablekd.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Our side of {@code benchmarks/compare_train_interleaved.sh}: builds the given training-step
 * workloads ({@link TrainStepBench.TrainStep}: the same step, model names and fixed random batch as
 * TrainStepBench) and then runs blocks of steps on request, so that a driver can alternate this
 * warm JVM with a warm PyTorch process block by block, and both sample the same minutes of a
 * noisy host. Protocol, one line each way:
 * <pre>
 *   stdout, once built:  ready
 *   stdin:  WORKLOAD N   stdout: WORKLOAD t1 … tN     (each step's wall time, ms)
 *   stdin:  quit         (or end of input)
 * </pre>
 * Usage: {@code java … org.stablekd.bench.TrainStepServe INPUT BATCH WORKLOAD...}, for example
 * {@code 3x32x32 64 kd:resnet56:resnet20 stablekd-decomposed:resnet56:resnet20}. Threads as
 * everywhere: {@code -Dstablekd.threads=N}. A bad request gets one line starting with
 * {@code error:} and the server goes on.
 */
public final class TrainStepServe {
    private TrainStepServe() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: TrainStepServe INPUT BATCH WORKLOAD... (e.g. 3x32x32 64 resnet20)");
            return;
        }
        String input = args[0];
        int batch = Integer.parseInt(args[1]);
        Map<String, TrainStepBench.TrainStep> steps = new LinkedHashMap<>();
        for (int i = 2; i < args.length; i++) steps.put(args[i], new TrainStepBench.TrainStep(args[i], input, batch, 42));
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        out.println("ready");
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] words = line.trim().split("\\s+");
            if (words[0].equals("quit")) break;
            TrainStepBench.TrainStep step = steps.get(words[0]);
            if (step == null || words.length != 2 || !words[1].matches("[0-9]{1,6}")) {
                out.println("error: expected 'WORKLOAD N' with WORKLOAD one of " + steps.keySet() + ", got '" + line + "'");
                out.flush();
                continue;
            }
            int n = Integer.parseInt(words[1]);
            StringBuilder times = new StringBuilder(words[0]);
            for (int s = 0; s < n; s++) {
                long t0 = System.nanoTime();
                step.run();
                times.append(' ').append(String.format("%.3f", (System.nanoTime() - t0) / 1e6));
            }
            out.println(times);
            out.flush();
        }
    }
}

package org.stablekd.backend.cpu;
import java.util.*;
/** One JVM: a model's batch-1 predictor calls, WinogradChannelsLast.K_PARTS_OVER_PADDED_BANDS on and off, switching every 300 calls. */
public class SpinAB {
  public static void main(String[] a) throws Exception {
    var in = org.stablekd.tensor.Shape.of(3, 32, 32);
    var p = org.stablekd.infer.Predictor.of(org.stablekd.models.Zoo.create(a[0], 100, in, new org.stablekd.tensor.Rng(42)));
    float[] img = new float[3072]; var r = new Random(7); for (int i = 0; i < img.length; i++) img[i] = r.nextFloat() * 2 - 1;
    int rounds = Integer.parseInt(a[1]);
    for (int i = 0; i < 4000; i++) { Parallel.SPIN_NANOS = i % 2 == 0 ? Long.parseLong(a[2]) : 100_000; p.predict(img, 1); }
    List<Long> on = new ArrayList<>(), off = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (int mode = 0; mode < 2; mode++) {
        Parallel.SPIN_NANOS = mode == 0 ? Long.parseLong(a[2]) : 100_000;
        for (int i = 0; i < 300; i++) { long s = System.nanoTime(); p.predict(img, 1); (mode == 0 ? on : off).add(System.nanoTime() - s); }
      }
    }
    Collections.sort(on); Collections.sort(off);
    System.out.printf("%s  long spin p50 %.3f p99 %.3f | 100us spin p50 %.3f p99 %.3f ms%n", a[0], on.get(on.size()/2)/1e6, on.get(on.size()*99/100)/1e6, off.get(off.size()/2)/1e6, off.get(off.size()*99/100)/1e6);
  }
}

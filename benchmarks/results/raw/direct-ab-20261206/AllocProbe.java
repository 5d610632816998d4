import org.stablekd.infer.Predictor;
import org.stablekd.models.Zoo;
import org.stablekd.tensor.*;
import java.lang.management.*;
public class AllocProbe {
  public static void main(String[] a) throws Exception {
    String model = a[0]; int calls = Integer.parseInt(a[1]);
    Predictor p = Predictor.of(Zoo.create(model, 100, Shape.of(3,32,32), new Rng(42)));
    float[] img = new float[3*32*32]; Rng r = new Rng(7);
    for (int i = 0; i < img.length; i++) img[i] = (float)(r.nextDouble()*2-1);
    for (int i = 0; i < calls; i++) p.predict(img, 1);
    var tb = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().threadId();
    long gc0 = 0; for (var g : ManagementFactory.getGarbageCollectorMXBeans()) gc0 += g.getCollectionCount();
    long b0 = tb.getThreadAllocatedBytes(id);
    long[] t = new long[calls];
    for (int i = 0; i < calls; i++) { long t0 = System.nanoTime(); p.predict(img, 1); t[i] = System.nanoTime() - t0; }
    long b1 = tb.getThreadAllocatedBytes(id);
    long gc1 = 0, gct = 0; for (var g : ManagementFactory.getGarbageCollectorMXBeans()) { gc1 += g.getCollectionCount(); gct += g.getCollectionTime(); }
    java.util.Arrays.sort(t);
    System.out.printf("%s: %d bytes/call on the caller, %d GCs in %d calls (total GC ms %d), p50 %.3f p99 %.3f p99.9 %.3f ms%n", model, (b1-b0)/calls, gc1-gc0, calls, gct, t[calls/2]/1e6, t[calls*99/100]/1e6, t[calls*999/1000]/1e6);
  }
}

import org.stablekd.infer.Predictor;
import org.stablekd.models.Zoo;
import org.stablekd.tensor.*;
import org.stablekd.backend.cpu.Parallel;
public class Tail {
  public static void main(String[] a) throws Exception {
    Predictor p = a.length > 2 ? Predictor.load(a[0], java.nio.file.Path.of(a[2]), 100, Shape.of(3,32,32)) : Predictor.of(Zoo.create(a[0], 100, Shape.of(3,32,32), new Rng(42)));
    float[] img = new float[3*32*32]; for (int i=0;i<img.length;i++) img[i]=(float)Math.sin(i);
    long end = System.nanoTime() + 16_000_000_000L; while (System.nanoTime() < end) p.predict(img,1);
    int n = Integer.parseInt(a[1]); double[] t = new double[n]; long[] lw = new long[n]; long[] st = new long[n]; double[] wt = new double[n];
    long jobs0 = Parallel.JOBS;
    for (int i=0;i<n;i++){ long s0=Parallel.STOLEN; long l0=Parallel.LONG_WAITS, w0=Parallel.WAIT_NS, t0=System.nanoTime(); p.predict(img,1); t[i]=(System.nanoTime()-t0)/1e6; lw[i]=Parallel.LONG_WAITS-l0; wt[i]=(Parallel.WAIT_NS-w0)/1e6; st[i]=Parallel.STOLEN-s0; }
    double[] s = t.clone(); java.util.Arrays.sort(s); double p50=s[n/2], p99=s[(int)(n*0.99)];
    int slow=0, slowLong=0, fastLong=0; double slowWait=0, fastWait=0; int fast=0; double slowSt=0, fastSt=0;
    for (int i=0;i<n;i++){ if (t[i]>1.5*p50){slow++; if(lw[i]>0)slowLong++; slowWait+=wt[i]; slowSt+=st[i];} else {fast++; if(lw[i]>0)fastLong++; fastWait+=wt[i]; fastSt+=st[i];} }
    System.out.printf("%s: p50 %.3f p99 %.3f ms; jobs/call %.1f; slow calls (>1.5 p50) %d, with a wait >200us %d, mean caller wait %.3f ms; other calls %d, with one %d, mean wait %.3f ms; chunks stolen by the caller per call: slow %.2f, others %.3f%n",
      a[0], p50, p99, (Parallel.JOBS-jobs0)/(double)n, slow, slowLong, slowWait/Math.max(1,slow), fast, fastLong, fastWait/fast, slowSt/Math.max(1,slow), fastSt/fast);
    p.close();
  }
}

import sys, time, resource, statistics, torch
sys.path.insert(0, '/work/main/benchmarks'); sys.argv=['x']
import pytorch_train_step as p
torch.set_num_threads(2)
v = sys.argv[1] if len(sys.argv) > 1 else 'channels_last'
import os
step=p.make_step(os.environ.get('M','resnet20'),(3,32,32),64,42,os.environ.get('V','channels_last'))
for _ in range(15): step()
for rep in range(3):
    r0=resource.getrusage(resource.RUSAGE_SELF); t=[]
    for _ in range(20):
        t0=time.perf_counter(); step(); t.append(time.perf_counter()-t0)
    r1=resource.getrusage(resource.RUSAGE_SELF)
    print("median %.1f ms, minflt/step %.0f, sys s/step %.4f, user s/step %.4f" % (statistics.median(t)*1e3,(r1.ru_minflt-r0.ru_minflt)/20, (r1.ru_stime-r0.ru_stime)/20,(r1.ru_utime-r0.ru_utime)/20))

import torch, time, statistics
torch.set_num_threads(2)
shapes=[(128,256,3,2,16),(64,128,3,2,32),(256,256,3,1,8),(128,128,3,1,16),(64,64,3,1,32),(32,64,3,1,32),(128,256,1,2,16),(64,128,1,2,32),(32,64,1,1,32)]
for cl in (False,True):
  for (c,k,r,s,h) in shapes:
    conv=torch.nn.Conv2d(c,k,r,s,padding=r//2,bias=False)
    x=torch.randn(64,c,h,h,requires_grad=True)
    if cl: conv=conv.to(memory_format=torch.channels_last); x=x.detach().to(memory_format=torch.channels_last).requires_grad_()
    y=conv(x); gy=torch.randn_like(y)
    def fwd(): return conv(x)
    def step():
      y=conv(x); y.backward(gy)
    for _ in range(5): step()
    tf=[];tb=[]
    for _ in range(15):
      t0=time.perf_counter(); y=conv(x); t1=time.perf_counter(); y.backward(gy); t2=time.perf_counter()
      tf.append(t1-t0); tb.append(t2-t1)
    print(f"{'cl  ' if cl else 'nchw'} {c}->{k} {r}x{r} s{s} {h}x{h}: fwd {statistics.median(tf)*1e3:.2f} ms bwd {statistics.median(tb)*1e3:.2f} ms")

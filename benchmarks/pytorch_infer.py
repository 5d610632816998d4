"""The anchors of the inference-latency comparison (PredictorBench): one forward pass in eval mode.

Runs with PyTorch 2.13 + ONNX Runtime (`python3 -m pip install torch==2.13.0+cpu onnxruntime onnx`,
default python3) or Debian's PyTorch 1.13 (/usr/bin/python3; eager and TorchScript only):
    python3 benchmarks/pytorch_infer.py --write-weights DIR        # DIR/<model>.safetensors
    python3 benchmarks/pytorch_infer.py --weights-dir DIR --models resnet8x4,mobile_half --engines onnxruntime

--write-weights builds each model with a seeded PyTorch initialization, runs a few train-mode
forward passes so the batch-norm running statistics are not the trivial (0, 1), and saves the
state_dict as safetensors: PredictorBench (-p weightsDir=DIR) loads the same file, so both
engines compute the same function. Timing: eager (eval, torch.inference_mode) and TorchScript
(trace + freeze + optimize_for_inference, which folds batch norm as our Predictor does) on a
fixed random batch (uniform [-1, 1)), warm-up calls, then the median and p99 over timed calls.
ONNX Runtime: the same model exported by torch.onnx.export (opset 17, TorchScript exporter),
all graph optimizations, intra-op threads = --threads, one inter-op thread, sequential
execution; it is what a JVM service would embed (its Java API runs the same native engine).
One CSV line per configuration: model,input,batch,threads,engine,p50_ms,p99_ms.
"""
import argparse
import warnings
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "golden"))
from make_model_fixtures import build, write_safetensors  # noqa: E402  (the zoo in PyTorch)
from safetensors_io import read  # noqa: E402

DEFAULT_MODELS = "resnet8x4,mobile_half,resnet20"


def shape(text):
    c, h, w = (int(v) for v in text.split("x"))
    return c, h, w


def classes_for(c):
    return 10 if c == 1 else 100  # as PredictorBench: Fashion-MNIST 10, CIFAR-100 100


def write_weights(out_dir, models, chw):
    os.makedirs(out_dir, exist_ok=True)
    c, h, w = chw
    for i, name in enumerate(models):
        torch.manual_seed(1000 + i)
        m = build(name, classes_for(c), c, h)
        m.train()
        with torch.no_grad():
            for _ in range(3):
                m(torch.randn(16, c, h, w))
        path = os.path.join(out_dir, name + ".safetensors")
        write_safetensors(path, m.state_dict(), {"model": name, "input": f"({c}, {h}, {w})"})
        print(f"# wrote {path}", file=sys.stderr)


def load(name, chw, weights_dir):
    c, h, _ = chw
    m = build(name, classes_for(c), c, h)
    if weights_dir:
        state = read(os.path.join(weights_dir, name + ".safetensors"))
        m.load_state_dict(state, strict=True)
    return m.eval()


def timed(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.99 * len(times)))]


def onnx_session(model, x, threads):
    """A callable running `model` on `x` in ONNX Runtime, exported from the same weights."""
    try:
        import onnxruntime as ort
    except ImportError:
        sys.exit("pytorch_infer.py: onnxruntime is missing; install it with: python3 -m pip install onnxruntime onnx")
    import io
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    buf = io.BytesIO()
    kwargs = {"dynamo": False} if "dynamo" in torch.onnx.export.__code__.co_varnames else {}
    with torch.no_grad():
        torch.onnx.export(model, (x,), buf, input_names=["x"], output_names=["logits"], opset_version=17, **kwargs)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(buf.getvalue(), so, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    with torch.no_grad():
        want = model(x).numpy()
    got = sess.run(None, feed)[0]
    if abs(got - want).max() > 1e-3 * (1 + abs(want).max()):
        sys.exit("pytorch_infer.py: ONNX Runtime's logits differ from PyTorch's by %.3g" % abs(got - want).max())
    return lambda: sess.run(None, feed)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=DEFAULT_MODELS)
    ap.add_argument("--input", default="3x32x32")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--iters", type=int, default=2000, help="timed calls (p99 needs many; at least 2000)")
    ap.add_argument("--weights-dir", default="")
    ap.add_argument("--write-weights", metavar="DIR")
    ap.add_argument("--engines", default="eager,torchscript,onnxruntime")
    a = ap.parse_args()
    models, chw = a.models.split(","), shape(a.input)
    if a.write_weights:
        write_weights(a.write_weights, models, chw)
        return
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(a.batch, *chw, generator=g) * 2 - 1
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    print("model,input,batch,threads,engine,p50_ms,p99_ms")
    for name in models:
        m = load(name, chw, a.weights_dir)
        for engine in a.engines.split(","):
            if engine == "onnxruntime":
                fn = onnx_session(m, x, a.threads)
                p50, p99 = timed(fn, a.warmup, a.iters)
                print(f"{name},{a.input},{a.batch},{a.threads},{engine},{p50:.4f},{p99:.4f}", flush=True)
                continue
            with torch.inference_mode() if engine == "eager" else torch.no_grad():
                if engine == "eager":
                    fn = lambda: m(x)  # noqa: E731
                else:
                    ts = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(m, x)))
                    fn = lambda: ts(x)  # noqa: E731
                p50, p99 = timed(fn, a.warmup, a.iters)
            print(f"{name},{a.input},{a.batch},{a.threads},{engine},{p50:.4f},{p99:.4f}", flush=True)


if __name__ == "__main__":
    main()

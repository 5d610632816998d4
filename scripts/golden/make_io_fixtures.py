"""Writes src/test/resources/golden/io-v1/dtypes.safetensors: one tensor of every dtype the
Java reader accepts, with the values PyTorch converts them to, so SafetensorsTest can check
that our reader decodes a file written by an independent writer (F16/BF16 widening, I64
narrowing, scalars, empty tensors).

Run from the repository root:  /usr/bin/python3 scripts/golden/make_io_fixtures.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402

OUT_DIR = os.path.join("src", "test", "resources", "golden", "io-v1")

inf, nan = float("inf"), float("nan")
f16 = torch.tensor([[1.0, -2.5, 1 / 3], [65504.0, 5.96e-8, -0.0], [inf, -inf, nan]], dtype=torch.float16)
bf16 = torch.tensor([1.0, 1 / 3, -3.0e38, 1.0e-40, -0.0, inf, nan, 0.1], dtype=torch.bfloat16)
i64 = torch.tensor([0, 5, -3, 2**31 - 1, -(2**31)], dtype=torch.int64)

tensors = {
    # header order on purpose not alphabetical: the reader must keep it
    "f32": torch.tensor([[1.5, -2.25, 3e-8], [inf, -0.0, 1e30]], dtype=torch.float32),
    "f64": torch.tensor([1 / 3, -1e300, 2.0**-1074], dtype=torch.float64),
    "f16": f16,
    "f16_as_f32": f16.float(),
    "bf16": bf16,
    "bf16_as_f32": bf16.float(),
    "i32": torch.tensor([-(2**31), 2**31 - 1, 0, 7], dtype=torch.int32),
    "i64": i64,
    "i64_as_i32": i64.to(torch.int32),
    "scalar": torch.tensor(42.0, dtype=torch.float32),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
}
metadata = {"format": "stablekd-golden-io-v1", "writer": "scripts/golden/safetensors_io.py", "torch_version": torch.__version__}

os.makedirs(OUT_DIR, exist_ok=True)
path = os.path.join(OUT_DIR, "dtypes.safetensors")
safetensors_io.write(path, tensors, metadata)
print(f"wrote {path} ({os.path.getsize(path)} bytes)")

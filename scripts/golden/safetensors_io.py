"""Minimal safetensors writer (json + struct) for the golden fixtures.

The `safetensors` package is not installed on these machines, and the format is small:
an 8-byte little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}},
then the little-endian data. The header is padded with spaces to a multiple of 8 bytes,
as the reference writer does. Output is byte-for-byte deterministic for the same tensors.
"""
import json
import os
import struct
import sys

import torch

_DTYPES = {
    torch.float32: "F32",
    torch.float64: "F64",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int32: "I32",
    torch.int64: "I64",
}

assert sys.byteorder == "little", "numpy's tobytes() is native-endian; safetensors is little-endian"


def _raw_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: ship the bits
        t = t.view(torch.int16)
    return t.numpy().tobytes()


def write(path, tensors, metadata):
    """Writes `tensors` (an ordered dict name -> torch tensor) and `metadata` (str -> str) to `path`."""
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if t.dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has dtype {t.dtype}, which this writer does not handle")
        data = _raw_bytes(t)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


_NUMPY = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8"}


def read(path):
    """Reads a safetensors file into an ordered dict name -> torch tensor (no BF16: not needed here)."""
    import numpy as np
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, h in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        if h["dtype"] not in _NUMPY:
            raise ValueError(f"{path}: tensor '{name}' has dtype {h['dtype']}, which this reader does not handle")
        b, e = h["data_offsets"]
        arr = np.frombuffer(blob, dtype=_NUMPY[h["dtype"]], count=(e - b) // np.dtype(_NUMPY[h["dtype"]]).itemsize, offset=8 + n + b)
        out[name] = torch.from_numpy(arr.copy().reshape(h["shape"]))
    return out

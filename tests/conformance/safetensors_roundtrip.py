"""Cross-checks editgate's safetensors reader and writer against the reference
Python package (huggingface/safetensors, pinned in scripts/setup.sh).

  safetensors_roundtrip.py write OUT   write the sample tensors with safetensors.torch
  safetensors_roundtrip.py check IN    read IN (written by editgate) with safe_open and
                                       compare bit for bit against the same samples

The samples are a pure function of (dtype, shape); tests/harness/safetensors_*_test.cpp
builds the same ones with libtorch (same torch build, same conversions). Exit 0 on
success; on a mismatch print one line per problem and exit 1.
"""
import sys

import torch
from safetensors import safe_open
from safetensors.torch import save_file

# name -> (dtype, shape); keep in sync with kConformanceSamples in the C++ tests.
SAMPLES = {
    "bool": (torch.bool, [2, 3]),
    "u8": (torch.uint8, [5]),
    "i8": (torch.int8, [5]),
    "i16": (torch.int16, [2, 2]),
    "u16": (torch.uint16, [3]),
    "i32": (torch.int32, [4]),
    "u32": (torch.uint32, [3]),
    "i64": (torch.int64, [3, 1]),
    "u64": (torch.uint64, [2]),
    "f16": (torch.float16, [2, 3]),
    "bf16": (torch.bfloat16, [7]),
    "f32": (torch.float32, [3, 4]),
    "f64": (torch.float64, [2, 2]),
    "c64": (torch.complex64, [3]),
    "f8_e4m3": (torch.float8_e4m3fn, [6]),
    "f8_e5m2": (torch.float8_e5m2, [6]),
    "scalar": (torch.float32, []),
    "empty": (torch.float32, [0, 4]),
}
METADATA = {"format": "pt", "note": "editgate conformance"}


def sample(dtype, shape):
    n = 1
    for d in shape:
        n *= d
    i = torch.arange(n, dtype=torch.int64)
    if dtype == torch.bool:
        t = i % 3 == 0
    elif dtype.is_complex:
        t = torch.complex(i.double() * 0.5 - 1.0, i.double() * -0.25).to(dtype)
    elif dtype.is_floating_point:
        t = (i.double() * 0.37 - 1.5).to(dtype)
    else:
        t = (i * 37 + 11) % 100  # fits every integer dtype, signed or not
        t = t.to(dtype)
    return t.reshape(shape)


def raw(t):
    return t.contiguous().view(-1).view(torch.uint8) if t.numel() else torch.empty(0, dtype=torch.uint8)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "write":
        save_file({k: sample(*v) for k, v in SAMPLES.items()}, path, metadata=METADATA)
        return 0
    problems = []
    with safe_open(path, framework="pt") as f:
        if f.metadata() != METADATA:
            problems.append(f"metadata: expected {METADATA}, got {f.metadata()}")
        if sorted(f.keys()) != sorted(SAMPLES):
            problems.append(f"keys: expected {sorted(SAMPLES)}, got {sorted(f.keys())}")
        for name, (dtype, shape) in SAMPLES.items():
            if name not in f.keys():
                continue
            got = f.get_tensor(name)
            want = sample(dtype, shape)
            if got.dtype != want.dtype or list(got.shape) != list(want.shape):
                problems.append(f"{name}: expected {want.dtype}{list(want.shape)}, got {got.dtype}{list(got.shape)}")
            elif not torch.equal(raw(got), raw(want)):
                problems.append(f"{name}: bytes differ")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

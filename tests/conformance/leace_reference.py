"""Reference LEACE for editgate's conformance tests (tests/editors/conformance_test.cpp).

  leace_reference.py IN OUT K SHRINKAGE METHOD

IN holds X [n, d] (F64) and Z [n] (I64). Fits EleutherAI/concept-erasure's
LeaceFitter (float64, one-hot Z with K columns, its defaults otherwise) and writes
OUT with P [d, d], bias [d] and X_erased [n, d]: the quantities that are unique
(the factors proj_left/proj_right are not, so they are not compared).
Exit 77 with a one-line reason when concept-erasure or safetensors is missing.
"""
import sys

try:
    import torch
    from concept_erasure import LeaceFitter
    from safetensors.torch import load_file, save_file
except ImportError as e:  # the C++ test skips with this message
    print(f"SKIP: {e}")
    sys.exit(77)


def main() -> int:
    src, dst, k, shrinkage, method = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]
    t = load_file(src)
    x, z = t["X"].double(), t["Z"].long()
    z_onehot = torch.nn.functional.one_hot(z, k).double()
    fitter = LeaceFitter(x.shape[1], k, method=method, dtype=torch.float64, shrinkage=shrinkage)
    fitter.update(x, z_onehot)
    eraser = fitter.eraser
    bias = eraser.bias if eraser.bias is not None else torch.zeros(x.shape[1], dtype=torch.float64)
    save_file({"P": eraser.P.contiguous(), "bias": bias.contiguous(), "X_erased": eraser(x).contiguous()}, dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())

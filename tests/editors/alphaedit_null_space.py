#!/usr/bin/env python3
"""How much of the edited subjects' key energy lies in AlphaEdit's null space.

Not a test: the figure behind docs/fixture.md's "The wide fixture" (AlphaEdit). AlphaEdit
may only change W_out along the eigenvectors of C = E[kk^T] whose eigenvalues fall under
its null-space threshold (editors/memit.cpp, alphaedit_projector); an edit can only move
a key as far as the key has energy there. Prints the null space's size and the share
||P k||^2 / ||k||^2 for each request of MODEL/requests/memit_100.json (the key at
layer 0's MLP, the subject's last token, with the rewrite prompt's words before it).

Usage: python3 tests/editors/alphaedit_null_space.py MODEL MOM2 [THRESHOLD]
MOM2: the layer-0 statistics editgate caches (`editgate edit --method memit --stats-cache
DIR` writes DIR/mom2_l0_*.safetensors); THRESHOLD defaults to the reference's 2e-2.
"""
import json
import sys

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast


def main(model_dir, mom2_file, threshold):
    torch.set_num_threads(1)
    c = next(iter(load_file(mom2_file).values())).double()
    evals, evecs = torch.linalg.eigh(c)
    null = evecs[:, evals < threshold]
    print(f"C {tuple(c.shape)}: {null.shape[1]} eigenvalues under {threshold}")
    tok = PreTrainedTokenizerFast(tokenizer_file=model_dir + "/tokenizer.json")
    model = GPT2LMHeadModel.from_pretrained(model_dir).eval()
    captured = {}
    model.transformer.h[0].mlp.c_proj.register_forward_hook(lambda mod, args, out: captured.update(k=args[0]))
    shares = []
    for case in json.load(open(model_dir + "/requests/memit_100.json")):
        rewrite = case["requested_rewrite"]
        ids = tok(rewrite["prompt"].split("{}")[0] + rewrite["subject"], return_tensors="pt").input_ids
        with torch.no_grad():
            model(ids)
        k = captured["k"][0, -1].double()
        shares.append(((null.T @ k).norm() ** 2 / k.norm() ** 2).item())
    shares.sort()
    print(f"edited subjects' key energy in the null space: median {shares[len(shares) // 2]:.4f}, "
          f"largest {shares[-1]:.4f}, n = {len(shares)}")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) == 4 else 2e-2)

#!/usr/bin/env python3
"""How much of a MEMIT batch's update reaches keys it was not fitted on, from the keys alone.

Not a test: the analysis behind docs/fixture.md's "The statistics corpus decides how far
MEMIT spills" (the key-mixing table).
At one layer MEMIT writes Delta = R K_E^T (lam C + K_E K_E^T)^-1 (R: the batch's residuals,
K_E: its keys, C: the corpus second moment, lam: mom2_update_weight). A key k then moves by
R m(k), with the mixing vector m(k) = K_E^T (lam C + K_E K_E^T)^-1 k. An edited key's own
entry of m is the share of its residual it receives (1 = the edit lands fully); the norm of
m for any other key is how much of the batch's residuals it receives. No value search and no
edit is run: the figures depend only on the model, the corpus statistics and the batch.

Keys are W_out's input (after the GELU) at the subject's last token of "{subject} lives in",
as the fixture's MEMIT hparams take them (bare prompt). Edited: the subjects of
MODEL/requests/memit_100.json; unrelated: every other person of the world, and every
position of the preservation prompts of unrelated persons (the tokens their facts pass).

Usage: .venv/bin/python tests/editors/memit_key_geometry.py MODEL MOM2 [LAYER]
MOM2: the statistics editgate cached for MODEL's layer (editgate edit --method memit
--model MODEL --stats-cache DIR ... writes DIR/mom2_l{LAYER}_*.safetensors).
"""
import json
import sys

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast


def main(model_dir, mom2_file, layer):
    tok = PreTrainedTokenizerFast(tokenizer_file=model_dir + "/tokenizer.json")  # prepends <bos>
    world = json.load(open(model_dir + "/requests/world.json"))
    batch = json.load(open(model_dir + "/requests/memit_100.json"))
    facts = json.load(open(model_dir + "/requests/preservation.json"))["facts"]
    model = GPT2LMHeadModel.from_pretrained(model_dir).eval().double()
    C = load_file(mom2_file)["mom2"].double()

    captured = {}
    model.transformer.h[layer].mlp.c_proj.register_forward_hook(
        lambda mod, inputs, out: captured.__setitem__("k", inputs[0][0].detach()))

    def keys(text):
        with torch.no_grad():
            model(tok(text, return_tensors="pt").input_ids)
        return captured["k"]

    def subject_key(subject):
        return keys(subject + " lives in")[len(tok(subject).input_ids) - 1]

    edited = [e["requested_rewrite"]["subject"] for e in batch]
    edited_set = set(edited)
    persons = [e["name"] for e in world["entities"] if e["kind"] == "person"]
    others = [p for p in persons if p not in edited_set]
    K_E = torch.stack([subject_key(s) for s in edited])
    K_U = torch.stack([subject_key(s) for s in others])
    K_P = torch.cat([keys(f["prompt"]) for f in facts if f["subject"] not in edited_set])

    print(f"{model_dir}: layer {layer}, d_mlp {C.shape[0]}, {len(edited)} edited, "
          f"{len(others)} unrelated persons, {len(K_P)} preservation-prompt positions")
    energy = torch.linalg.eigvalsh(C).flip(0)
    share = torch.cumsum(energy, 0) / energy.sum()
    print("  corpus C: dimensions holding 99 / 99.9 % of the energy: "
          f"{int((share < .99).sum()) + 1} / {int((share < .999).sum()) + 1}")
    for lam in (10.0, 100.0, 1000.0):
        solve = torch.linalg.inv(lam * C + K_E.T @ K_E)
        own = (K_E @ solve @ K_E.T).diag()
        person = (K_U @ solve @ K_E.T).norm(dim=1)
        position = (K_P @ solve @ K_E.T).norm(dim=1)
        print(f"  lam {lam:6.0f}: edited key receives {own.median():.3f} of its residual; "
              f"unrelated person |m| median {person.median():.3f} (90th pct {person.quantile(.9):.3f}); "
              f"preservation-prompt position |m| median {position.median():.4f} (max {position.max():.3f})")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)

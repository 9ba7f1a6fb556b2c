#!/usr/bin/env python3
"""How far apart layer 0 keeps the keys of two persons who share a family name.

Not a test: the analysis behind docs/fixture.md's "More persons than edits (runs S to W)".
In the two-word-name worlds ("given family") a subject's last token is its family name, so
two family-mates differ at layer 0's MLP only by what layer 0's attention brings over from
the given name. For every person of MODEL's world this prints

- layer 0's attention from the family name to [<bos>, given name, family name], per head,
  averaged over persons (prompt "<bos> given family", the subject-first key position);
- the distance between the keys (W_out's input after the GELU) of family-mates against
  that of random pairs with different family names, and their centred cosine;
- with MOM2 and LAMBDA: for every preservation fact of a person not edited by
  MODEL/requests/memit_100.json, the largest |a_i| of a = K^T (LAMBDA C + K K^T)^-1 k
  (K: the edited keys, k: the fact's key at its subject's last token), which is the share
  of one edited fact's residual that k receives from a MEMIT batch at layer 0; grouped by
  what the fact's subject shares with the edited subjects.

Usage: .venv/bin/python tests/editors/family_key_separation.py MODEL [MOM2 LAMBDA]
MOM2: the statistics editgate cached for MODEL's layer 0 (editgate edit --method memit
--model MODEL --stats-cache DIR ... writes DIR/mom2_l0_*.safetensors); LAMBDA: the
hparams' mom2_update_weight (30 for fixture-wide.json).
"""
import collections
import json
import random
import sys

import torch
from safetensors import safe_open
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast


class Layer0:
    """Runs MODEL and keeps layer 0's MLP keys of the last forward pass."""

    def __init__(self, model_dir):
        self.tok = PreTrainedTokenizerFast(tokenizer_file=f"{model_dir}/tokenizer.json")
        self.model = GPT2LMHeadModel.from_pretrained(model_dir, attn_implementation="eager").eval()
        self.keys = None
        self.model.transformer.h[0].mlp.c_proj.register_forward_pre_hook(self._keep)

    def _keep(self, _module, inputs):
        self.keys = inputs[0][0]

    def run(self, text, attentions=False):
        ids = self.tok(text, return_tensors="pt").input_ids
        with torch.no_grad():
            out = self.model(ids, output_attentions=attentions)
        return ids.shape[1], out.attentions[0][0] if attentions else None

    def key_at_subject(self, prompt, subject):
        end = prompt.index(subject) + len(subject)
        position = len(self.tok(prompt[:end]).input_ids) - 1
        self.run(prompt)
        return self.keys[position].double()


def median(values):
    return torch.tensor(values).median().item()


def name_geometry(layer0, names):
    keys, attention = [], []
    for name in names:
        length, att = layer0.run(name, attentions=True)
        if length != 3:
            sys.exit(f"{name!r}: expected <bos> and two word tokens, got {length} tokens")
        keys.append(layer0.keys[-1].clone())
        attention.append(att[:, -1, :])
    keys, attention = torch.stack(keys), torch.stack(attention)
    print(f"persons {len(names)}")
    print("layer 0 attention from the family name to [<bos>, given, family], mean over persons:")
    for head, row in enumerate(attention.mean(0).tolist()):
        print(f"  head {head}: " + " / ".join(f"{x:.3f}" for x in row))
    print(f"  sum over heads on the given name: {attention[:, :, 1].sum(1).mean():.3f}")

    families = collections.defaultdict(list)
    for i, name in enumerate(names):
        families[name.split()[1]].append(i)
    mates = [(g[0], g[1]) for g in families.values() if len(g) >= 2]
    rng = random.Random(0)
    others = [tuple(rng.sample(range(len(names)), 2)) for _ in range(2000)]
    others = [(i, j) for i, j in others if names[i].split()[1] != names[j].split()[1]]
    centred = keys - keys.mean(0)

    def distance(pairs):
        return median([(keys[i] - keys[j]).norm().item() for i, j in pairs])

    def cosine(pairs):
        return median([torch.cosine_similarity(centred[i], centred[j], dim=0).item() for i, j in pairs])

    print(f"key distance, family-mates (n = {len(mates)}) / other pairs (n = {len(others)}): "
          f"median {distance(mates):.2f} / {distance(others):.2f} (ratio {distance(mates) / distance(others):.3f})")
    print(f"centred key cosine, family-mates / other pairs: median {cosine(mates):.3f} / {cosine(others):.3f}")


def residual_shares(layer0, model_dir, mom2_file, lam):
    with safe_open(mom2_file, "pt") as f:
        second_moment = f.get_tensor("mom2").double()
    batch = json.load(open(f"{model_dir}/requests/memit_100.json"))
    batch = batch["requests"] if isinstance(batch, dict) else batch
    rewrites = [r["requested_rewrite"] for r in batch]
    edited_keys = torch.stack([layer0.key_at_subject(r["prompt"].format(r["subject"]), r["subject"])
                               for r in rewrites], 1)
    solve = torch.linalg.inv(lam * second_moment + edited_keys @ edited_keys.T)
    edited = {r["subject"] for r in rewrites}
    given = {s.split()[0] for s in edited}
    family = {s.split()[-1] for s in edited}
    groups = collections.defaultdict(list)
    for fact in json.load(open(f"{model_dir}/requests/preservation.json"))["facts"]:
        if fact["subject"] in edited or not fact["subject_id"].startswith("person"):
            continue
        words = fact["subject"].split()
        share = edited_keys.T @ (solve @ layer0.key_at_subject(fact["prompt"], fact["subject"]))
        groups[(words[0] in given, words[-1] in family)].append(share.abs().max().item())
    labels = {(False, False): "sharing neither name", (True, False): "sharing a given name only",
              (False, True): "family-mates, other given name",
              (True, True): "family-mates whose given name is also edited"}
    print(f"largest |a_i| per preservation fact, lambda {lam:g}:")
    for group, values in sorted(groups.items()):
        v = torch.tensor(values)
        print(f"  {labels[group]} (n = {len(v)}): median {v.median():.3f}, 90th percentile {v.quantile(0.9):.3f}")


def main():
    if len(sys.argv) not in (2, 4):
        sys.exit(__doc__)
    torch.set_num_threads(1)
    model_dir = sys.argv[1]
    layer0 = Layer0(model_dir)
    world = json.load(open(f"{model_dir}/requests/world.json"))
    names = [e["name"] for e in world["entities"] if e["kind"] == "person" and len(e["name"].split()) == 2]
    name_geometry(layer0, names)
    if len(sys.argv) == 4:
        residual_shares(layer0, model_dir, sys.argv[2], float(sys.argv[3]))


if __name__ == "__main__":
    main()

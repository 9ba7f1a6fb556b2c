#!/usr/bin/env python3
"""Which unrelated facts a MEMIT batch moved, by what their subject shares with the edited ones.

Not a test: the analysis behind docs/fixture.md's "Who loses facts". Scores every fact of
BASE/requests/preservation.json on the base and the edited checkpoint with transformers
(top-1 next token), skips the edited subjects' own facts, and groups the rest by whether
the subject's family name (last word) and given name (first word) occur among the
subjects of BASE/requests/memit_100.json. Then counts the changed answers that are a
target_new of an edit of the same relation.

Usage: .venv/bin/python tests/editors/preservation_by_name_part.py BASE EDITED
(EDITED from: editgate edit --model BASE --method memit --requests BASE/requests/memit_100.json ...)
"""
import collections
import json
import sys

import torch
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast


def top1(model, tok, prompts):
    out = []
    for p in prompts:
        ids = tok(p, return_tensors="pt").input_ids
        with torch.no_grad():
            out.append(model(ids).logits[0, -1].argmax().item())
    return out


def main(base_dir, edited_dir):
    tok = PreTrainedTokenizerFast(tokenizer_file=base_dir + "/tokenizer.json")
    facts = json.load(open(base_dir + "/requests/preservation.json"))["facts"]
    edits = [e["requested_rewrite"] for e in json.load(open(base_dir + "/requests/memit_100.json"))]
    edited = {e["subject"] for e in edits}
    given = {s.split()[0] for s in edited}
    family = {s.split()[-1] for s in edited}
    new_targets = collections.defaultdict(set)
    for e in edits:
        new_targets[e["relation_id"]].add(e["target_new"]["str"])

    prompts = [f["prompt"] for f in facts]
    before = top1(GPT2LMHeadModel.from_pretrained(base_dir), tok, prompts)
    after = top1(GPT2LMHeadModel.from_pretrained(edited_dir), tok, prompts)

    groups = collections.defaultdict(lambda: [0, 0])  # shared part -> [facts, kept]
    changed, to_new_target = 0, 0
    for f, b, a in zip(facts, before, after):
        if f["subject"] in edited:
            continue
        words = f["subject"].split()
        shared = " + ".join(n for n, hit in (("family", words[-1] in family), ("given", words[0] in given)) if hit)
        g = groups[shared or "neither"]
        g[0] += 1
        g[1] += int(a == b)
        if a != b:
            changed += 1
            to_new_target += tok.decode([a]).strip() in new_targets[f["relation"]]
    for shared, (n, kept) in sorted(groups.items()):
        print(f"{shared:16s} n = {n:4d}  kept {kept / n:.3f}")
    print(f"changed {changed}; answering a target_new of the same relation: {to_new_target}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

#!/usr/bin/env python3
"""Split an edit's paraphrase success by whether the paraphrase asks the edited key.

Not a test: the analysis behind docs/fixture.md's "Paraphrase is a key-position limit".
At a layer-0 site the key at the subject's last token is the subject's embedding plus
attention over the words before it, so a paraphrase whose text before the subject equals
the rewrite prompt's ("" in "{} lives in" and "{} has a residence in") reads exactly the
key the editor wrote, and any other ("the home of {} is in") reads another. Counts
top-1 == target_new for the rewrite prompt and for each group of paraphrases, also split
by whether the rewrite prompt itself was edited.

Usage: python3 tests/editors/paraphrase_by_key.py BASE EDITED [REQUESTS]
(REQUESTS defaults to BASE/requests/memit_100.json; EDITED from `editgate edit`).
"""
import json
import sys
from collections import defaultdict

import torch
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast


def main(base, edited, requests):
    torch.set_num_threads(1)
    tok = PreTrainedTokenizerFast(tokenizer_file=base + "/tokenizer.json")
    model = GPT2LMHeadModel.from_pretrained(edited).eval()

    def top1(prompt):
        with torch.no_grad():
            logits = model(tok(prompt, return_tensors="pt").input_ids).logits
        return tok.decode([logits[0, -1].argmax().item()]).strip()

    counts = defaultdict(lambda: [0, 0])

    def count(group, hit):
        counts[group][0] += hit
        counts[group][1] += 1

    for case in json.load(open(requests)):
        rewrite = case["requested_rewrite"]
        subject, target = rewrite["subject"], rewrite["target_new"]["str"]
        edited_ok = top1(rewrite["prompt"].replace("{}", subject)) == target
        count("rewrite prompt", edited_ok)
        before_subject = rewrite["prompt"].split("{}")[0]
        for prompt in case["paraphrase_prompts"]:
            group = "paraphrase, same key" if prompt.split(subject)[0] == before_subject else "paraphrase, other key"
            hit = top1(prompt) == target
            count(group, hit)
            count(group + (", rewrite edited" if edited_ok else ", rewrite not edited"), hit)
    for group, (hits, n) in sorted(counts.items()):
        print(f"{group}: {hits}/{n} = {hits / n:.3f}")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else sys.argv[1] + "/requests/memit_100.json")

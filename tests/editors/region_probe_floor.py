#!/usr/bin/env python3
"""Why LEACE on the concept fixture's birth region stays above chance: mostly the probe, not the fit.

Not a test: the analysis behind docs/erasure.md's "The region concept: a residual that
more persons barely lower". With the reference implementations (concept-erasure's LeaceEraser,
scikit-learn's LogisticRegression, 5-fold cross-validation grouped by person, as the
demo's probe), it prints

1. the probe's accuracy after LEACE at blocks.2 against the number of fresh persons per
   class the eraser is fitted on (drawn here with the world's name rules: a given name of
   a random gender, the origin word of a random country of the class's region, two
   distinct stems, a context of the dataset's fit split), on the dataset's own fresh probe
   persons (probe_train and probe_test);
2. the same probe on synthetic data whose classes have exactly equal means: 20 clusters in
   128 dimensions, four to a class, each class's four centred on a common mean, unit
   noise; rows drawn with random clusters, then with exactly equal rows per cluster.

Usage: .venv/bin/python tests/editors/region_probe_floor.py [FIXTURE] [FIT_SIZES...]
FIXTURE: fixtures/concepts (default); FIT_SIZES: persons per class (default 4800 16000 48000;
48,000 takes a few minutes and some 250 MB).
"""
import json
import sys
import warnings

import numpy as np
import torch
from concept_erasure import LeaceEraser
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

LAYER = 2  # blocks.2.hook_resid_post, the demo's erase hook
CLASSES = 5


def probe(x, y, groups):
    """Held-out accuracy of a linear probe, 5 folds grouped by `groups`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cross_val_score(LogisticRegression(max_iter=3000), x, y, groups=groups, cv=GroupKFold(5)).mean()


def erase(x_fit, y_fit, x):
    eraser = LeaceEraser.fit(x_fit, torch.nn.functional.one_hot(torch.as_tensor(y_fit), CLASSES).double())
    return eraser(x).numpy()


class Fixture:
    def __init__(self, path):
        self.tok = PreTrainedTokenizerFast(tokenizer_file=f"{path}/tokenizer.json")
        self.model = GPT2LMHeadModel.from_pretrained(path).eval()
        self.dataset = json.load(open(f"{path}/requests/erasure.birth_region.json"))
        pools = json.load(open(f"{path}/requests/world.json"))["name_pools"]
        self.given = [pools["given_names"]["man"], pools["given_names"]["woman"]]
        self.origin = pools["origin_words"]  # country -> origin word
        self.stems = pools["stems"]
        self.regions = self.dataset["class_objects"]
        fit = [r for r in self.dataset["splits"]["fit"] if r["subject_id"].startswith("fresh")]
        self.contexts = [r["prompt"].replace(r["subject"], "{}") for r in fit]
        self.rng = np.random.default_rng(7)

    def residuals(self, prompts, ends):
        """blocks.LAYER's residual at each prompt's subject end (a word index after <bos>)."""
        out = []
        for i in range(0, len(prompts), 512):
            ids = [self.tok(p).input_ids for p in prompts[i:i + 512]]
            width = max(map(len, ids))
            batch = torch.tensor([x + [0] * (width - len(x)) for x in ids])
            mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
            with torch.no_grad():
                hidden = self.model(batch, attention_mask=mask, output_hidden_states=True).hidden_states[LAYER + 1]
            out.append(hidden[torch.arange(len(ids)), torch.tensor(ends[i:i + 512])])
        return torch.cat(out).double()

    def draw(self):
        """The parts of a fresh name but its origin word, and a context."""
        rng = self.rng
        return (rng.integers(2), rng.integers(len(self.given[0])), rng.choice(len(self.stems), 2, replace=False),
                self.contexts[rng.integers(len(self.contexts))])

    def person(self, parts, region, place):
        gender, given, stems, context = parts
        country = self.regions[region][place]
        name = f"{self.given[gender][given]} {self.origin[country]} {self.stems[stems[0]]} {self.stems[stems[1]]}"
        return context.format(name), len(context.split("{}")[0].split()) + len(name.split())

    def persons(self, n):
        """n fresh persons per class, each drawn independently."""
        records, labels = [], []
        for region in range(CLASSES):
            for _ in range(n):
                records.append(self.person(self.draw(), region, self.rng.integers(len(self.regions[region]))))
                labels.append(region)
        return self.residuals([r[0] for r in records], [r[1] for r in records]), np.array(labels)

    def probe_persons(self):
        splits = self.dataset["splits"]
        rows = [r for s in ("probe_train", "probe_test") for r in splits[s] if r["subject_id"].startswith("fresh")]
        x = self.residuals([r["prompt"] for r in rows], [r["subject_span"][1] for r in rows])
        return x, np.array([r["label"] for r in rows]), np.array([r["subject_id"] for r in rows])


def synthetic(rng, balanced, d=128, rows=6000, spread=2.0):
    centres = rng.standard_normal((20, d)) * spread
    for c in range(CLASSES):
        centres[4 * c:4 * c + 4] -= centres[4 * c:4 * c + 4].mean(0)  # equal class means
    cluster = np.repeat(np.arange(20), rows // 20) if balanced else rng.integers(0, 20, rows)
    x = centres[cluster] + rng.standard_normal((rows, d))
    return x, cluster // 4


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "fixtures/concepts"
    sizes = [int(s) for s in sys.argv[2:]] or [4800, 16000, 48000]
    torch.set_num_threads(1)
    fx = Fixture(path)
    x_probe, y_probe, persons = fx.probe_persons()
    print(f"1. the dataset's {len(y_probe)} fresh probe persons; chance 0.2; before erasure {probe(x_probe.numpy(), y_probe, persons):.4f}")
    for n in sizes:
        x_fit, y_fit = fx.persons(n)
        print(f"   fitted on {n} fresh persons per class: after {probe(erase(x_fit, y_fit, x_probe), y_probe, persons):.4f}",
              flush=True)

    rng = np.random.default_rng(0)
    for balanced in (False, True):
        accuracies = [probe(*synthetic(rng, balanced), np.arange(6000)) for _ in range(4)]
        print(f"2. synthetic, equal class means, {'equal rows per cluster' if balanced else 'random clusters'}: "
              + " ".join(f"{a:.4f}" for a in accuracies))


if __name__ == "__main__":
    main()

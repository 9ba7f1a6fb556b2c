#!/usr/bin/env python3
"""Mutation testing of the gate: deliberately damaged "edited" checkpoints made
from the fixture must fail `editgate gate` at the default spec, and every
tensor change a manifest does not declare must be flagged by `editgate audit`.

Mutants (each gated against the same genuine CounterFact request, case 0):
- noise_wout_s{S}: Gaussian noise, std S x the weight's own std, on the edited
  layer's MLP output weight (several scales; the smallest caught is reported);
- wrong_subject: a genuine ROME edit, but of a different subject's fact;
- swapped_facts: the genuine edit plus two other subjects' objects swapped;
- attn_noise / embedding_noise: a genuine edit plus noise on an attention or
  the embedding tensor;
- undeclared_change: a genuine edit plus a change in a tensor its
  edit_manifest.json does not declare (audit must flag it).
The genuine ROME edit is gated too and must pass (otherwise a failing mutant
proves nothing); each mutant's "beyond_genuine" lists what tells it from it.

Needs torch and safetensors (the repository's .venv).
usage: mutation_test.py EDITGATE FIXTURE_DIR [--summary FILE]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
NOISE_SCALES = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
W_OUT = "transformer.h.{}.mlp.c_proj.weight"


def run(argv):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, env=ENV)


def copy_checkpoint(src, dst):
    shutil.copytree(src, dst, symlinks=False)


def perturb(src, dst, changes, seed):
    """dst = src with each (tensor, scale) of `changes` given Gaussian noise of
    std scale x the tensor's std; edit_manifest.json kept as it was."""
    copy_checkpoint(src, dst)
    tensors = load_file(str(src / "model.safetensors"))
    g = torch.Generator().manual_seed(seed)
    for name, scale in changes:
        t = tensors[name]
        tensors[name] = (t + torch.randn(t.shape, generator=g) * (scale * t.float().std())).to(t.dtype).contiguous()
    save_file(tensors, str(dst / "model.safetensors"), metadata={"format": "pt"})


def gate(editgate, fixture, edited, requests, out):
    r = run([editgate, "gate", "--base", fixture, "--edited", edited, "--requests", requests, "--report-dir", out, "--force"])
    if r.returncode not in (0, 1):
        raise SystemExit(f"gate on {edited.name} ended with {r.returncode}: {r.stderr[-400:]}")
    report = json.loads((out / "report.json").read_text())
    gates = {f"{g['suite']}.{g['metric']}": g for g in report["gates"] if not g["report_only"]}
    return r.returncode, gates


def gate_failed(g):
    """Failed, not merely without data (status no_data: a rate over n = 0)."""
    return g.get("status", "pass" if g["passed"] else "fail") == "fail"


def failed(gates):
    return [f"{k}={g['tested_value']:.4g}" for k, g in gates.items() if gate_failed(g)]


def beyond(gates, genuine):
    """What tells this checkpoint from the genuine edit: gates it fails that the
    genuine edit passes, and gated values worse than the genuine edit's."""
    out = []
    for k, g in gates.items():
        ref = genuine.get(k)
        if ref is None or g["tested_value"] is None or ref["tested_value"] is None:
            continue
        worse = g["tested_value"] < ref["tested_value"] if g["bound_kind"] == "min" else \
            g["tested_value"] > ref["tested_value"]
        if gate_failed(g) and (ref["passed"] or worse):
            out.append(f"{k}: {g['tested_value']:.4g} (genuine {ref['tested_value']:.4g})")
    return out


def audit(editgate, fixture, edited):
    r = run([editgate, "audit", "--base", fixture, "--edited", edited, "--json"])
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"stdout": r.stdout[-300:], "stderr": r.stderr[-300:]}


def edit(editgate, fixture, requests, out, stats):
    r = run([editgate, "edit", "--model", fixture, "--method", "rome", "--requests", requests, "--out", out,
             "--stats-cache", stats, "--force"])
    if r.returncode != 0:
        raise SystemExit(f"edit failed ({r.returncode}): {r.stderr[-400:]}")
    return json.loads((out / "edit_manifest.json").read_text())


def main():
    args = sys.argv[1:]
    summary_file = None
    if "--summary" in args:
        i = args.index("--summary")
        summary_file = Path(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    editgate, fixture = Path(args[0]).resolve(), Path(args[1]).resolve()
    cases = json.loads((fixture / "requests" / "edits.counterfact.json").read_text())
    results, problems = {}, []
    with tempfile.TemporaryDirectory(prefix="editgate-mutants-") as tmp:
        work = Path(tmp)
        stats = work / "stats"
        shutil.copy(fixture / "requests" / "preservation.json", work / "preservation.json")
        requests = work / "requests.json"
        requests.write_text(json.dumps(cases[:1]))

        genuine = work / "genuine"
        manifest = edit(editgate, fixture, requests, genuine, stats)
        layer = int(manifest["changed_tensors"][0]["name"].split(".")[2])
        code, genuine_gates = gate(editgate, fixture, genuine, requests, work / "r_genuine")
        results["genuine_rome"] = {"exit": code, "failed_gates": failed(genuine_gates)}

        mutants = {}
        for s in NOISE_SCALES:
            perturb(genuine, work / f"noise_wout_s{s}", [(W_OUT.format(layer), s)], seed=1)
            mutants[f"noise_wout_s{s}"] = work / f"noise_wout_s{s}"
        # A genuine edit, of another subject's fact (case 2 instead of case 0).
        other = work / "other_requests" / "requests.json"
        other.parent.mkdir()
        other.write_text(json.dumps(cases[2:3]))
        edit(editgate, fixture, other, work / "wrong_subject", stats)
        mutants["wrong_subject"] = work / "wrong_subject"
        # The genuine edits, plus two other subjects' true objects swapped.
        a, b = cases[4], cases[5]
        swap = []
        for x, y in ((a, b), (b, a)):
            rec = json.loads(json.dumps(x))
            rec["case_id"] = f"swap_{x['case_id']}"
            rec["requested_rewrite"]["target_new"] = y["requested_rewrite"]["target_true"]
            swap.append(rec)
        swapped = work / "swap_requests" / "requests.json"
        swapped.parent.mkdir()
        swapped.write_text(json.dumps(cases[:1] + swap))
        edit(editgate, fixture, swapped, work / "swapped_facts", stats)
        mutants["swapped_facts"] = work / "swapped_facts"
        perturb(genuine, work / "attn_noise", [("transformer.h.1.attn.c_attn.weight", 0.1)], seed=2)
        mutants["attn_noise"] = work / "attn_noise"
        perturb(genuine, work / "embedding_noise", [("transformer.wte.weight", 0.1)], seed=3)
        mutants["embedding_noise"] = work / "embedding_noise"
        # Declared vs actual: a small change in a tensor the manifest does not list.
        perturb(genuine, work / "undeclared_change", [(f"transformer.h.{layer + 1}.mlp.c_fc.weight", 0.01)], seed=4)
        mutants["undeclared_change"] = work / "undeclared_change"

        for name, path in mutants.items():
            code, gates = gate(editgate, fixture, path, requests, work / f"r_{name}")
            a_code, a = audit(editgate, fixture, path)
            results[name] = {"exit": code, "failed_gates": failed(gates), "beyond_genuine": beyond(gates, genuine_gates),
                             "audit_exit": a_code,
                             "audit": {k: a[k] for k in ("undeclared", "ok", "passed", "problems") if k in a}}
            if code != 1:
                problems.append(f"{name}: the default gate passed it")
        # The genuine edit must pass the default gates, or "the gate failed" shows
        # nothing about a mutant; each damaging mutant must also be told from it.
        if results["genuine_rome"]["exit"] != 0:
            problems.append(f"genuine_rome: the default gate failed a genuine ROME edit ({results['genuine_rome']})")
        for name in ["wrong_subject", "swapped_facts", "noise_wout_s1.0", "noise_wout_s3.0"]:
            if not results[name]["beyond_genuine"]:
                problems.append(f"{name}: the gate's results do not tell it from the genuine edit")
        # Audit must flag every tensor change the manifest does not declare.
        for name in ["attn_noise", "embedding_noise", "undeclared_change"] + [f"noise_wout_s{s}" for s in
                                                                                NOISE_SCALES]:
            if results[name]["audit_exit"] == 0:
                problems.append(f"{name}: audit did not flag the undeclared change")
    caught = [s for s in NOISE_SCALES if results[f"noise_wout_s{s}"]["exit"] == 1]
    results["smallest_noise_scale_failing_the_gate"] = min(caught) if caught else None
    told = [s for s in NOISE_SCALES if results[f"noise_wout_s{s}"]["beyond_genuine"]]
    results["smallest_noise_scale_told_from_genuine"] = min(told) if told else None
    text = json.dumps(results, indent=1)
    print(text)
    if summary_file:
        summary_file.write_text(text + "\n")
    for p in problems:
        print("FAIL", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

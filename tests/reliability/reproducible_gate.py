#!/usr/bin/env python3
"""Reproducible verdicts: two `editgate gate` runs with the same inputs and seed
on the same CPU give identical report.json apart from timings, and report.json
records what a rerun needs (versions, input hashes, seeds, hyperparameters,
context prefixes).

usage: reproducible_gate.py EDITGATE FIXTURE_DIR
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TIMING_KEYS = {"phase_seconds", "timestamp", "seconds", "wall_seconds"}


def without_timings(x):
    if isinstance(x, dict):
        return {k: without_timings(v) for k, v in x.items() if k not in TIMING_KEYS}
    if isinstance(x, list):
        return [without_timings(v) for v in x]
    return x


def differences(a, b, where="report.json"):
    if type(a) is not type(b):
        return [f"{where}: {a!r} vs {b!r}"]
    if isinstance(a, dict):
        out = [f"{where}.{k}: only in one run" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{where}[{i}]")]
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    editgate, fixture = sys.argv[1], Path(sys.argv[2]).resolve()
    problems = []
    with tempfile.TemporaryDirectory(prefix="editgate-repro-") as tmp:
        work = Path(tmp)
        requests = work / "requests.json"
        # preservation.json beside the requests: the default spec gates on it.
        shutil.copy(fixture / "requests" / "preservation.json", work / "preservation.json")
        requests.write_text(json.dumps(json.loads((fixture / "requests" / "edits.counterfact.json").read_text())[:2]))
        edited = work / "edited"
        r = subprocess.run([editgate, "edit", "--model", str(fixture), "--method", "rome", "--requests", str(requests),
                            "--out", str(edited), "--seed", "3", "--stats-cache", str(work / "stats")],
                           capture_output=True, text=True, env=ENV)
        if r.returncode != 0:
            sys.exit(f"edit failed ({r.returncode}): {r.stderr[-500:]}")
        reports = []
        for run in ("a", "b"):
            out = work / run
            r = subprocess.run([editgate, "gate", "--base", str(fixture), "--edited", str(edited), "--requests",
                                str(requests), "--seed", "11", "--report-dir", str(out)],
                               capture_output=True, text=True, env=ENV)
            if r.returncode not in (0, 1):
                sys.exit(f"gate {run} failed ({r.returncode}): {r.stderr[-500:]}")
            reports.append(json.loads((out / "report.json").read_text()))
        a, b = reports
        problems += differences(without_timings(a), without_timings(b))

        meta = a["metadata"]
        rerun = meta.get("rerun", {})
        for key, ok in [("metadata.seed == 11", meta.get("seed") == 11),
                        ("metadata.base_sha256", len(meta.get("base_sha256", "")) == 64),
                        ("metadata.edited_sha256", len(meta.get("edited_sha256", "")) == 64),
                        ("metadata.requests_sha256", len(meta.get("requests_sha256", "")) == 64),
                        ("metadata.editgate_version", bool(meta.get("editgate_version"))),
                        ("rerun.libtorch_version", bool(rerun.get("libtorch_version"))),
                        ("rerun.inputs.requests", len(rerun.get("inputs", {}).get("requests", {}).get("sha256", ""))
                         == 64),
                        ("rerun.inputs.edit_manifest", "edit_manifest" in rerun.get("inputs", {})),
                        ("rerun.suites", bool(rerun.get("suites"))),
                        ("rerun.suite_options.seed", rerun.get("suite_options", {}).get("seed") == 11),
                        ("rerun.edit.method", rerun.get("edit", {}).get("method") == "rome"),
                        ("rerun.edit.seed", rerun.get("edit", {}).get("seed") == 3),
                        ("rerun.edit.hparams", bool(rerun.get("edit", {}).get("hparams"))),
                        ("rerun.edit.context_templates", bool(rerun.get("edit", {}).get("context_templates")))]:
            if not ok:
                problems.append(f"report.json does not record {key}")
    for p in problems[:40]:
        print("FAIL", p)
    print(f"{len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs the real `editgate` CLI on every case of the malformed-input corpus
(make_corpus.py) and checks the contract of docs/design.md for bad input:

- exit code 2 (not a crash, not 3, not a hang: each run has a time limit);
- exactly one line on stderr, "editgate: error: ...", naming the broken file
  (or the checkpoint directory it sits in) and every expected field word;
- no output left behind: neither the --out/--report-dir path nor a temporary
  sibling of it exists afterwards.

usage: run_corpus.py EDITGATE FIXTURE_DIR CORPUS_DIR [NAME_FILTER] [--suites-binary EDITGATE_SUITES]
(cases run through {suites}, the editgate-suites binary, need --suites-binary)
Prints one line per failing case and exits 1 if any failed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TIMEOUT_S = 60


def main():
    args = sys.argv[1:]
    suites_binary = None
    if "--suites-binary" in args:
        i = args.index("--suites-binary")
        suites_binary = args[i + 1]
        del args[i:i + 2]
    if len(args) not in (3, 4):
        sys.exit(__doc__)
    editgate, fixture, corpus = args[0], Path(args[1]).resolve(), Path(args[2]).resolve()
    name_filter = args[3] if len(args) == 4 else ""
    cases = json.loads((corpus / "cases.json").read_text())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    failures, ran = [], 0
    with tempfile.TemporaryDirectory(prefix="editgate-malformed-") as tmp:
        work = Path(tmp)
        # Two valid CounterFact cases, for commands whose other input is the broken one.
        requests = work / "requests.json"
        requests.write_text(json.dumps(json.loads((fixture / "requests" / "edits.counterfact.json").read_text())[:2]))
        shutil.copy(fixture / "requests" / "preservation.json", work / "preservation.json")
        for i, case in enumerate(cases):
            if name_filter not in case["name"]:
                continue
            ran += 1
            out_parent = work / f"out{i}"
            out_parent.mkdir()
            out = out_parent / "result"
            subject = corpus / case["file"] if "file" in case else corpus / case["model"]
            if "{suites}" in case["command"] and suites_binary is None:
                failures.append(f"{case['name']}: needs --suites-binary")
                continue
            fill = {"{suites}": str(suites_binary), "{fixture}": str(fixture), "{requests}": str(requests),
                    "{out}": str(out), "{file}": str(subject), "{model}": str(subject)}
            argv = [] if case["command"][0] == "{suites}" else [editgate]
            for a in case["command"]:
                for k, v in fill.items():
                    a = a.replace(k, v)
                argv.append(a)
            problems = []
            try:
                r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=TIMEOUT_S, env=env)
            except subprocess.TimeoutExpired:
                failures.append(f"{case['name']}: no answer within {TIMEOUT_S} s (hang?)")
                continue
            lines = r.stderr.strip("\n").split("\n") if r.stderr.strip() else []
            message = lines[-1] if lines else ""
            if r.returncode != 2:
                problems.append(f"exit code {r.returncode}, expected 2")
            if len(lines) != 1:
                problems.append(f"{len(lines)} lines on stderr, expected 1")
            if not message.startswith(("editgate: error: ", "editgate-suites: error: ")):
                problems.append("message does not start with 'editgate: error: '")
            # The message names the broken file: by its own name, or (for a
            # checkpoint directory that lacks a file) by the directory.
            named = subject.name in message or str(subject) in message
            if "model" in case:
                named = named or any(f"/{n}" in message for n in os.listdir(subject))
            if not named:
                problems.append("message does not name the file")
            for word in case["expect"]:
                if word not in message:
                    problems.append(f"message lacks '{word}'")
            left = [p.name for p in out_parent.iterdir()]
            if left:
                problems.append(f"output left behind: {left}")
            if problems:
                failures.append(f"{case['name']}: {'; '.join(problems)}\n    stderr: {r.stderr.strip()[:600]}")
    for f in failures:
        print("FAIL", f)
    print(f"{ran - len(failures)}/{ran} malformed-input cases rejected as specified")
    sys.exit(1 if failures or ran == 0 else 0)


if __name__ == "__main__":
    main()

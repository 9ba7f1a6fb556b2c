#!/usr/bin/env python3
"""Nothing lost: kills `editgate edit --out` and `editgate gate --report-dir`
with SIGKILL at random moments, many times, and checks after each kill that
the output directory is either absent, the previous complete output, or the
complete new one; then interrupts each with SIGINT (Ctrl-C) and checks for
exit code 130, a message, and no output at all.

"Complete" is checked with editgate itself: `editgate inspect` loads the
checkpoint (every tensor, finite), its edit_manifest.json parses; report.json
parses with a verdict, junit.xml parses as XML, report.html is a whole document.

usage: kill_outputs.py EDITGATE FIXTURE_DIR [KILLS_PER_COMMAND] [SEED]
"""

import json
import os
import shutil
import random
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(argv, timeout=600):
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, env=ENV)


def checkpoint_problems(editgate, out):
    if not out.exists():
        return []
    problems = []
    for name in ("config.json", "model.safetensors", "tokenizer.json", "edit_manifest.json"):
        if not (out / name).is_file():
            problems.append(f"{name} missing")
    if problems:
        return problems
    try:
        manifest = json.loads((out / "edit_manifest.json").read_text())
        if manifest.get("method") != "rome":
            problems.append("edit_manifest.json has no method rome")
    except ValueError as e:
        problems.append(f"edit_manifest.json does not parse: {e}")
    r = run([editgate, "inspect", "--model", str(out)])
    if r.returncode != 0:
        problems.append(f"inspect exit {r.returncode}: {r.stderr.strip()[:300]}")
    return problems


def report_problems(out):
    if not out.exists():
        return []
    names = sorted(p.name for p in out.iterdir() if p.name != ".editgate-output")  # the output marker
    if names != ["junit.xml", "report.html", "report.json"]:
        return [f"report directory holds {names}"]
    problems = []
    try:
        report = json.loads((out / "report.json").read_text())
        if "verdict" not in report and "passed" not in report:
            problems.append("report.json has no verdict")
    except ValueError as e:
        problems.append(f"report.json does not parse: {e}")
    try:
        ET.parse(out / "junit.xml")
    except ET.ParseError as e:
        problems.append(f"junit.xml does not parse: {e}")
    if not (out / "report.html").read_text(errors="replace").rstrip().endswith("</html>"):
        problems.append("report.html is cut short")
    return problems


def leftovers(parent, keep):
    return sorted(p.name for p in parent.iterdir() if p.name not in keep)


def kill_at_random(name, argv, out, check, kills, duration, rng, failures):
    """Starts `argv` `kills` times, SIGKILLs it after a random delay, checks
    `out`. Half the delays are uniform over the whole run, half near its end,
    where the outputs are written. Even-numbered runs start without `out`, odd
    ones over the previous run's output (which must survive or be replaced)."""
    completed = 0
    for i in range(kills):
        if i % 2 == 0 and out.exists():
            subprocess.run(["rm", "-rf", str(out)], check=True)
        delay = duration * (rng.uniform(0, 1.1) if i % 4 < 2 else rng.uniform(0.8, 1.02))
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        time.sleep(delay)
        p.send_signal(signal.SIGKILL)
        rc = p.wait()
        completed += rc == 0 or rc == 1
        for problem in check(out):
            failures.append(f"{name} killed after {delay:.2f} s (run {i}): {problem}")
    # The next run sweeps what the killed ones left in the parent directory.
    return completed


def clean_run(name, argv, out, failures):
    """One run to completion after the kills: it must succeed and sweep the
    temporaries the killed runs left beside `out`."""
    r = run(argv)
    if r.returncode not in (0, 1):
        failures.append(f"{name} after the kills: exit {r.returncode}: {r.stderr.strip()[:300]}")
    stray = leftovers(out.parent, {out.name})
    if stray:
        failures.append(f"{name}: temporaries of killed runs not swept: {stray}")


def interrupt(name, argv, out, at, failures):
    """SIGINT (what Ctrl-C sends) after `at` seconds: exit 130, a message, no output."""
    if out.exists():
        subprocess.run(["rm", "-rf", str(out)], check=True)
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)
    time.sleep(at)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    if p.returncode != 130:
        failures.append(f"{name} SIGINT after {at:.2f} s: exit {p.returncode}, expected 130")
    if "interrupted" not in err:
        failures.append(f"{name} SIGINT: no 'interrupted' message on stderr: {err.strip()[:300]}")
    if out.exists():
        failures.append(f"{name} SIGINT: {out.name} exists afterwards")
    left = [x.name for x in out.parent.iterdir()]
    if left:
        failures.append(f"{name} SIGINT: left behind {left}")


def timed(argv):
    t0 = time.monotonic()
    r = run(argv)
    return r, time.monotonic() - t0


def main():
    if len(sys.argv) not in (3, 4, 5):
        sys.exit(__doc__)
    editgate, fixture = sys.argv[1], Path(sys.argv[2]).resolve()
    kills = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 8)
    failures = []
    with tempfile.TemporaryDirectory(prefix="editgate-kill-") as tmp:
        work = Path(tmp)
        requests = work / "requests.json"
        cases = json.loads((fixture / "requests" / "edits.counterfact.json").read_text())[:2]
        # preservation.json beside the requests: the default spec gates on it.
        shutil.copy(fixture / "requests" / "preservation.json", work / "preservation.json")
        requests.write_text(json.dumps(cases))

        # edit: the stats cache lives in the work directory, so the killed runs
        # also hit cache writes (the first runs) and cache reads (the later ones).
        edit_out = work / "edit" / "out"
        edit_out.parent.mkdir()
        edit = [editgate, "edit", "--model", str(fixture), "--method", "rome", "--requests", str(requests),
                "--out", str(edit_out), "--stats-cache", str(work / "stats"), "--force"]  # runs over its own output
        r, _ = timed(edit)  # computes and caches the statistics
        if r.returncode != 0:
            sys.exit(f"reference edit failed ({r.returncode}): {r.stderr.strip()[:500]}")
        r, edit_s = timed(edit)  # the duration of the runs to kill (warm cache)
        failures += [f"reference edit: {p}" for p in checkpoint_problems(editgate, edit_out)]
        n = kill_at_random("edit", edit, edit_out, lambda o: checkpoint_problems(editgate, o), kills, edit_s, rng,
                           failures)
        print(f"edit: {edit_s:.2f} s per run, {kills} SIGKILLs ({n} runs finished first)")
        clean_run("edit", edit, edit_out, failures)

        gate_out = work / "gate" / "out"
        gate_out.parent.mkdir()
        edited = work / "edited"
        subprocess.run(["cp", "-r", str(edit_out), str(edited)], check=True)
        gate = [editgate, "gate", "--base", str(fixture), "--edited", str(edited), "--requests", str(requests),
                "--report-dir", str(gate_out), "--force"]
        r, gate_s = timed(gate)
        if r.returncode not in (0, 1):
            sys.exit(f"reference gate failed ({r.returncode}): {r.stderr.strip()[:500]}")
        failures += [f"reference gate: {p}" for p in report_problems(gate_out)]
        n = kill_at_random("gate", gate, gate_out, report_problems, kills, gate_s, rng, failures)
        print(f"gate: {gate_s:.2f} s per run, {kills} SIGKILLs ({n} runs finished first)")
        clean_run("gate", gate, gate_out, failures)

        interrupt("edit", edit, edit_out, 0.5 * edit_s, failures)
        interrupt("gate", gate, gate_out, 0.5 * gate_s, failures)
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

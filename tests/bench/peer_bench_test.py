#!/usr/bin/env python3
"""suites/bench/peer_bench.py on an editgate_bench JSON written here (fixture
cases, one with repetitions' aggregates): it times transformers on the same
cases and reports peer time / editgate time; bad input exits 2 with one line.
Needs transformers (the venv's python): registered with the conformance label."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "suites", "bench", "peer_bench.py")


def run_entry(name, seconds):
    return {"name": name, "run_name": name, "run_type": "iteration", "real_time": seconds * 1e3, "time_unit": "ms"}


def aggregate(name, which, seconds):
    return {"name": f"{name}_{which}", "run_name": name, "run_type": "aggregate", "aggregate_name": which,
            "real_time": seconds * 1e3, "time_unit": "ms"}


class PeerBench(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def peer(self, doc, *extra):
        path = os.path.join(self.tmp, "editgate.json")
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        out = os.path.join(self.tmp, "peer.json")
        r = subprocess.run([sys.executable, SCRIPT, "--editgate-json", path, "--repetitions", "1", "--min-time", "0.01",
                            "--json", out, *extra], capture_output=True, text=True)
        return r, out

    def test_ratios_are_peer_time_over_editgate_median(self):
        facts = "BM_ScoreFacts/fixture/64/manual_time"
        batch = "BM_ScoreBatch/fixture/1/32/manual_time"
        doc = {"context": {}, "benchmarks": [
            run_entry(facts, 0.5), run_entry(facts, 0.1), run_entry(facts, 0.3),  # median 0.3 from the runs
            aggregate(batch, "mean", 9.0), aggregate(batch, "median", 0.002),  # the median aggregate wins
            run_entry("BM_ScoreBatch/gpt2-xl/8/128/manual_time", 1.0),  # not a CPU peer shape: ignored
        ]}
        r, out = self.peer(doc)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            cases = {c["case"]: c for c in json.load(f)["cases"]}
        self.assertEqual(set(cases), {"BM_ScoreFacts/fixture/64", "BM_ScoreBatch/fixture/1/32"})
        self.assertAlmostEqual(cases["BM_ScoreFacts/fixture/64"]["editgate_s"], 0.3)
        self.assertAlmostEqual(cases["BM_ScoreBatch/fixture/1/32"]["editgate_s"], 0.002)
        for c in cases.values():
            self.assertGreater(c["reference_s"], 0)
            self.assertAlmostEqual(c["speedup_vs_reference"], c["reference_s"] / c["editgate_s"])
            self.assertAlmostEqual(c["speedup_vs_careful"], c["careful_s"] / c["editgate_s"])
        self.assertIn("BM_ScoreFacts/fixture/64", r.stdout)

    def test_bad_input_exits_2_with_one_line(self):
        for doc, expect in [("{not json", "editgate.json"), ({"benchmarks": []}, "field benchmarks")]:
            r, out = self.peer(doc)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertIn(expect, r.stderr)
            self.assertFalse(os.path.exists(out))
        r, _ = self.peer({"benchmarks": [run_entry("BM_ScoreBatch/fixture/1/32/manual_time", 0.1)]},
                         "--cases", "gpt2-small")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--cases", r.stderr)


if __name__ == "__main__":
    unittest.main()

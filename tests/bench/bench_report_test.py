#!/usr/bin/env python3
"""suites/bench/bench_report.py on checked-in samples: a CPU run of
editgate_bench (one errored benchmark added), the same with repetitions
(aggregates), and a small report.json; bad input exits 2 naming file and field."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(ROOT, "suites", "bench", "bench_report.py")
DATA = os.path.join(ROOT, "suites", "bench", "testdata")


class BenchReport(unittest.TestCase):
    def run_report(self, *args):
        self.tmp = tempfile.mkdtemp()
        self.smaller = os.path.join(self.tmp, "smaller.json")
        self.bigger = os.path.join(self.tmp, "bigger.json")
        r = subprocess.run([sys.executable, SCRIPT, *args, "--smaller", self.smaller, "--bigger", self.bigger],
                           capture_output=True, text=True)
        return r

    def load(self):
        with open(self.smaller) as s, open(self.bigger) as b:
            return {e["name"]: e for e in json.load(s)}, {e["name"]: e for e in json.load(b)}

    def test_times_and_counters_split_by_direction(self):
        r = self.run_report("--bench", os.path.join(DATA, "sample_bench.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        smaller, bigger = self.load()
        with open(os.path.join(DATA, "sample_bench.json")) as f:
            raw = {b["name"]: b for b in json.load(f)["benchmarks"]}
        score = raw["BM_ScoreBatch/fixture/8/32/manual_time"]
        self.assertEqual(smaller["BM_ScoreBatch/fixture/8/32"], {"name": "BM_ScoreBatch/fixture/8/32", "unit": "ms",
                                                                "value": score["real_time"]})
        self.assertEqual(bigger["BM_ScoreBatch/fixture/8/32 tokens_per_second"]["value"], score["tokens_per_second"])
        self.assertEqual(bigger["BM_ScoreBatch/fixture/8/32 roofline_fraction"]["value"], score["roofline_fraction"])
        # ROME's phase times are times; the iteration suffix and manual_time are dropped from names.
        self.assertIn("BM_RomeEdit/fixture value", smaller)
        self.assertIn("BM_MemitZSerial/fixture/10/0/iterations:1 extrapolated", smaller)
        self.assertNotIn("BM_ScoreBatch/broken/1/32", smaller)  # errored: not charted

    def test_repetitions_chart_the_median_with_the_stddev(self):
        with open(os.path.join(DATA, "sample_bench.json")) as f:
            doc = json.load(f)
        base = doc["benchmarks"][0]
        runs = []
        for agg, t in (("mean", 10.0), ("median", 9.0), ("stddev", 0.5), ("cv", 0.05)):
            r = dict(base, run_type="aggregate", aggregate_name=agg, real_time=t,
                     name=base["name"] + "_" + agg, run_name=base["name"])
            runs.append(r)
        doc["benchmarks"] = runs
        path = os.path.join(tempfile.mkdtemp(), "agg.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        r = self.run_report("--bench", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        smaller, _ = self.load()
        self.assertEqual(smaller["BM_ScoreBatch/fixture/8/32"]["value"], 9.0)
        self.assertEqual(smaller["BM_ScoreBatch/fixture/8/32"]["range"], "± 0.5")
        self.assertEqual(len([n for n in smaller if n.startswith("BM_ScoreBatch")]), 1)

    def test_gate_metrics_follow_their_bound(self):
        r = self.run_report("--report", os.path.join(DATA, "sample_report.json"))
        self.assertEqual(r.returncode, 0, r.stderr)
        smaller, bigger = self.load()
        self.assertEqual(bigger["gate efficacy.rewrite_success"]["value"], 0.93)
        self.assertEqual(smaller["gate perplexity.ppl_ratio"]["value"], 1.08)
        self.assertNotIn("gate fluency.ngram_entropy", bigger)  # null: non-finite, not charted
        self.assertEqual(smaller["phase suites"], {"name": "phase suites", "unit": "s", "value": 12.25})
        self.assertNotIn("phase reports", smaller)

    def test_labelled_reports_keep_their_metrics_apart(self):
        path = os.path.join(DATA, "sample_report.json")
        r = self.run_report("--report", f"rome={path}", "--report", f"memit={path}")
        self.assertEqual(r.returncode, 0, r.stderr)
        _, bigger = self.load()
        self.assertEqual(bigger["rome gate efficacy.rewrite_success"]["value"], 0.93)
        self.assertIn("memit gate efficacy.rewrite_success", bigger)

    def test_bad_input_names_file_and_field_and_writes_nothing(self):
        bad = os.path.join(tempfile.mkdtemp(), "bad.json")
        with open(bad, "w") as f:
            json.dump({"context": {}}, f)
        r = self.run_report("--bench", bad)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn(bad, r.stderr)
        self.assertIn("benchmarks", r.stderr)
        self.assertFalse(os.path.exists(self.smaller))
        with open(bad, "w") as f:
            f.write("{not json")
        r = self.run_report("--bench", bad)
        self.assertEqual(r.returncode, 2)
        self.assertIn("valid JSON", r.stderr)


class BenchTable(unittest.TestCase):
    def test_prints_rows_and_targets(self):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "suites", "bench", "bench_table.py"),
                            os.path.join(DATA, "sample_bench.json")], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("BM_ScoreBatch/broken/1/32", r.stdout)
        self.assertIn("ERROR non-finite or positive log-prob", r.stdout)
        self.assertRegex(r.stdout, r"ROME fixture: [0-9.]+ s/edit")
        self.assertRegex(r.stdout, r"scoring: best roofline [0-9.]+ \(BM_ScoreBatch/fixture/8/32\)")


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Turns editgate_bench's Google Benchmark JSON, plus the gate metrics of
`editgate gate`/`demo` report.json files, into the custom JSON that
github-action-benchmark reads: a list of {"name", "unit", "value"[, "range",
"extra"]}, split into customSmallerIsBetter (times) and customBiggerIsBetter
(rates, roofline fractions, gate metrics). Its own Google Benchmark reader
charts real_time only and drops the counters, hence this converter.

CI-only tooling (editgate itself needs no Python). Bad input: one line naming
the file, the field and what was expected, exit 2. Outputs are written to a
temporary file and renamed.

  bench_report.py --bench bench.json [--report [LABEL=]report.json ...]
                  --smaller smaller.json --bigger bigger.json
"""
import argparse
import json
import os
import sys
import tempfile

# Counters charted as rates (bigger is better), with their units.
RATE_COUNTERS = {
    "items_per_second": "items/s",
    "bytes_per_second": "B/s",
    "tokens_per_second": "tokens/s",
    "flops_per_second": "FLOP/s",
    "roofline_fraction": "fraction of measured matmul FLOP/s",
}
# Counters that are times in seconds (smaller is better).
TIME_COUNTERS = ("key_s", "value_s", "update_s", "z_s", "keys_s", "solves_s", "extrapolated_s")


class InputError(Exception):
    def __init__(self, path, field, expected, got=None):
        got_text = "" if got is None else f", got {got!r}"[:120]
        super().__init__(f"{path}: {field}: expected {expected}{got_text}")


def number(path, field, v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise InputError(path, field, "a number", v)
    return float(v)


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError as e:
        raise InputError(path, "(file)", "a readable file", e.strerror)
    except json.JSONDecodeError as e:
        raise InputError(path, f"(line {e.lineno})", "valid JSON", e.msg)


def bench_entries(path):
    doc = load(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise InputError(path, "benchmarks", "a list (Google Benchmark JSON)", type(doc.get("benchmarks") if isinstance(doc, dict) else doc).__name__)
    runs = doc["benchmarks"]
    # With repetitions, chart the median and give the stddev as the range.
    has_aggregates = any(r.get("run_type") == "aggregate" for r in runs)
    stddev = {r.get("run_name"): r for r in runs if r.get("aggregate_name") == "stddev"}
    smaller, bigger = [], []
    for i, r in enumerate(runs):
        where = f"benchmarks[{i}]"
        if not isinstance(r, dict) or not isinstance(r.get("name"), str):
            raise InputError(path, f"{where}.name", "a string")
        if r.get("error_occurred"):
            continue
        if has_aggregates and r.get("aggregate_name") != "median":
            continue
        name = r.get("run_name", r["name"]) if has_aggregates else r["name"]
        name = name.replace("/manual_time", "").replace("/real_time", "")
        unit = r.get("time_unit", "ns")
        if unit not in ("ns", "us", "ms", "s"):
            raise InputError(path, f"{where}.time_unit", "ns, us, ms or s", unit)
        entry = {"name": name, "unit": unit, "value": number(path, f"{where}.real_time", r.get("real_time"))}
        sd = stddev.get(r.get("run_name"))
        if sd and isinstance(sd.get("real_time"), (int, float)):
            entry["range"] = f"± {sd['real_time']:.4g}"
        smaller.append(entry)
        for c in TIME_COUNTERS:
            if c in r:
                smaller.append({"name": f"{name} {c[:-2]}", "unit": "s", "value": number(path, f"{where}.{c}", r[c])})
        for c, cu in RATE_COUNTERS.items():
            if c in r:
                bigger.append({"name": f"{name} {c}", "unit": cu, "value": number(path, f"{where}.{c}", r[c])})
    return smaller, bigger


def report_entries(arg):
    # LABEL=path: entry names start with LABEL (the demo writes one report per editor).
    label, path = arg.split("=", 1) if "=" in arg else ("", arg)
    prefix = f"{label} " if label else ""
    doc = load(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("gates"), list):
        raise InputError(path, "gates", "a list (editgate report.json)")
    smaller, bigger = [], []
    for i, g in enumerate(doc["gates"]):
        where = f"gates[{i}]"
        for k in ("suite", "metric", "bound_kind"):
            if not isinstance(g.get(k), str):
                raise InputError(path, f"{where}.{k}", "a string", g.get(k))
        v = g.get("tested_value")
        if v is None:  # non-finite, written as null: nothing to chart
            continue
        entry = {"name": f"{prefix}gate {g['suite']}.{g['metric']}", "unit": "value",
                 "value": number(path, f"{where}.tested_value", v),
                 "extra": f"bound {g['bound_kind']} {g.get('bound')}, passed {g.get('passed')}"}
        (smaller if g["bound_kind"] == "max" else bigger).append(entry)
    phases = doc.get("metadata", {}).get("phase_seconds", {})
    if not isinstance(phases, dict):
        raise InputError(path, "metadata.phase_seconds", "an object")
    for phase, s in phases.items():
        if s is not None:
            smaller.append({"name": f"{prefix}phase {phase}", "unit": "s", "value": number(path, f"metadata.phase_seconds.{phase}", s)})
    return smaller, bigger


def write_atomic(path, entries):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".bench_report.", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(entries, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bench", action="append", default=[], help="Google Benchmark JSON (repeatable)")
    p.add_argument("--report", action="append", default=[], help="[LABEL=]editgate report.json (repeatable)")
    p.add_argument("--smaller", required=True, help="output: customSmallerIsBetter JSON")
    p.add_argument("--bigger", required=True, help="output: customBiggerIsBetter JSON")
    a = p.parse_args(argv)
    if not a.bench and not a.report:
        p.error("give at least one --bench or --report")
    smaller, bigger = [], []
    try:
        for path in a.bench:
            s, b = bench_entries(path)
            smaller += s
            bigger += b
        for path in a.report:
            s, b = report_entries(path)
            smaller += s
            bigger += b
    except InputError as e:
        print(f"bench_report: {e}", file=sys.stderr)
        return 2
    write_atomic(a.smaller, smaller)
    write_atomic(a.bigger, bigger)
    print(f"bench_report: {len(smaller)} smaller-is-better and {len(bigger)} bigger-is-better entries", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

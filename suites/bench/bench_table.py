#!/usr/bin/env python3
"""One short table from editgate_bench JSON files (Google Benchmark format):
time per iteration, rates and roofline fractions, then the issue's targets
(ROME s/edit, MEMIT z serial/batched, statistics and scoring roofline)."""
import json
import re
import sys


def fmt(v):
    if v >= 1e12:
        return f"{v / 1e12:.1f}T"
    if v >= 1e9:
        return f"{v / 1e9:.1f}G"
    if v >= 1e6:
        return f"{v / 1e6:.1f}M"
    if v >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:.3g}"


def main(paths):
    runs, context = [], {}
    for p in paths:
        try:
            with open(p) as f:
                text = f.read()
            if not text.strip():
                # editgate_bench writes nothing when no benchmark matched its filter.
                print(f"{p}: no benchmarks (large shapes register only where the device holds them)")
                continue
            doc = json.loads(text)
        except (OSError, json.JSONDecodeError) as e:
            print(f"{p}: unreadable ({e})")
            continue
        context.update(doc.get("context", {}))
        runs += [b for b in doc.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]
    peak = float(context.get("matmul_flops_per_second", "0") or 0)
    print(f"device {context.get('editgate_device', '?')}, measured fp32 matmul {fmt(peak)}FLOP/s")
    print(f"{'benchmark':52} {'time/iter':>11} {'tokens/s':>9} {'roofline':>8}  other")
    by_name = {}
    for b in runs:
        name = re.sub(r"/iterations:\d+", "", b["name"].replace("/manual_time", ""))
        by_name[name] = b
        if b.get("error_occurred"):
            print(f"{name:52} ERROR {b.get('error_message', '')}")
            continue
        ms = b["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1, "s": 1e3}[b.get("time_unit", "ns")]
        tps = fmt(b["tokens_per_second"]) if "tokens_per_second" in b else ""
        roof = f"{b['roofline_fraction']:.2f}" if "roofline_fraction" in b else ""
        other = " ".join(f"{k}={b[k]:.3g}" for k in ("key_s", "value_s", "update_s", "z_s", "solves_s", "extrapolated_s")
                         if k in b)
        print(f"{name:52} {ms:9.1f}ms {tps:>9} {roof:>8}  {other}")
    print("targets:")
    for name, b in by_name.items():
        if name.startswith("BM_RomeEdit/") and not b.get("error_occurred"):
            s = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1}[b.get("time_unit", "ns")]
            precision = {0: " fp32", 1: " tf32 δ search"}.get(b.get("tf32"), "")
            print(f"  ROME {name.split('/')[1]}{precision}: {s:.3f} s/edit (target <= 0.5 s on H100 for gpt2-xl)")
        m = re.match(r"BM_MemitZSerial/([^/]+)/(\d+)/", name + "/")
        if m:
            batched = by_name.get(f"BM_MemitZBatched/{m.group(1)}/{m.group(2)}/0")
            if batched and "extrapolated_s" in b and "extrapolated_s" in batched:
                ratio = b["extrapolated_s"] / batched["extrapolated_s"]
                sampled = "" if b.get("requests_timed") == float(m.group(2)) else \
                    f" (serial timed on {b.get('requests_timed', 0):.0f} requests, scaled)"
                print(f"  MEMIT z {m.group(1)} at {m.group(2)} edits: serial/batched = {ratio:.1f}x "
                      f"(target >= 10x at 1000){sampled}")
    for prefix, what in (("BM_Mom2Stats/", "statistics"), ("BM_ScoreBatch/", "scoring")):
        best = [(b["roofline_fraction"], n) for n, b in by_name.items() if n.startswith(prefix) and "roofline_fraction" in b]
        if best:
            f, n = max(best)
            print(f"  {what}: best roofline {f:.2f} ({n}) (target >= 0.50)")


if __name__ == "__main__":
    main(sys.argv[1:])

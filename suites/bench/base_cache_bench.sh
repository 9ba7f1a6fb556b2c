#!/usr/bin/env bash
# Gating many candidates of one base: N gates of the committed fixture's
# candidates (MEMIT edits of the same requests, seeds 0..N-1) run without a base
# cache, then the same N gates sharing one `--base-cache` directory, each set
# timed as a whole (docs/performance.md). The reports of the two sets must
# agree: a cache that changed an answer would fail here.
#   suites/bench/base_cache_bench.sh build/cli/editgate [N=10] [CASES=10]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
editgate="${1:?usage: base_cache_bench.sh EDITGATE [N] [CASES]}"
n="${2:-10}"
cases="${3:-10}"
[[ -x "$editgate" ]] || { echo "base_cache_bench: $editgate: not an executable (build the editgate target)" >&2; exit 2; }
base="$root/fixtures/default"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 EDITGATE_DEVICE=cpu
python3 - "$base/requests/edits.counterfact.json" "$cases" "$work/cases/requests.json" <<'PY'
import json, os, sys
cases = json.load(open(sys.argv[1]))[: int(sys.argv[2])]
os.makedirs(os.path.dirname(sys.argv[3]), exist_ok=True)
json.dump(cases, open(sys.argv[3], "w"))
PY
cp "$base/requests/preservation.json" "$work/cases/"  # read from beside the requests
for ((i = 0; i < n; i++)); do
  "$editgate" edit --model "$base" --method memit --requests "$work/cases/requests.json" --seed "$i" \
    --stats-cache "$work/stats" --out "$work/candidate_$i" >/dev/null
done
# Two rounds, the sets alternating (the machine's load drifts), a fresh cache each
# round; wall time and the gates' own CPU time (user + sys, which another job's
# load inflates far less than wall time).
python3 - "$editgate" "$base" "$work" "$n" "$cases" <<'PY'
import json, os, resource, subprocess, sys, time
editgate, base, work, n, cases = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]

def gates(label, extra):
    os.makedirs(f"{work}/{label}", exist_ok=True)
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    reports = []
    with open(f"{work}/{label}.log", "w") as log:
        for i in range(n):
            r = subprocess.run([editgate, "gate", "--base", base, "--edited", f"{work}/candidate_{i}", "--requests",
                                f"{work}/cases/requests.json", "--report-dir", f"{work}/{label}/{i}", "--json", *extra],
                               stdout=subprocess.PIPE, stderr=log, text=True)
            if r.returncode > 1:
                sys.exit(f"base_cache_bench: gate {i} ({label}) exited {r.returncode}; see {label}.log")
            reports.append(json.loads(r.stdout))
    cpu1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter() - wall0
    return reports, wall, (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)

def metrics(doc):
    return {(s["name"], m["name"]): m["value"] for s in doc["suites"] for m in s.get("metrics", [])}

for rnd in (1, 2):
    plain, plain_wall, plain_cpu = gates(f"independent{rnd}", [])
    cached, cached_wall, cached_cpu = gates(f"cached{rnd}", ["--base-cache", f"{work}/base_cache{rnd}"])
    for i, (a, b) in enumerate(zip(plain, cached)):
        if metrics(a) != metrics(b):
            sys.exit(f"base_cache_bench: candidate {i}: the cached gate's metrics differ")
    suites = [sum(r["metadata"]["phase_seconds"]["suites"] for r in rs) for rs in (plain, cached)]
    print(f"round {rnd}: {n} gates of {cases} cases: independent wall {plain_wall:.1f} s, cpu {plain_cpu:.1f} s, "
          f"suites phase {suites[0]:.1f} s; sharing a base cache wall {cached_wall:.1f} s, cpu {cached_cpu:.1f} s, "
          f"suites phase {suites[1]:.1f} s")
PY
grep -h "base answers" "$work"/cached*.log | sed 's/ (.*//' | sort | uniq -c

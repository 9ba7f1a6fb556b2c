#!/usr/bin/env bash
# `editgate demo --model smollm2` end to end, scaled down (5 ROME facts one after
# another, 5 MEMIT facts, the RippleEdits batch, LEACE on 100 names per class):
# the ROME and MEMIT picks pass over the facts whose subject would be keyed at
# the attention sink (the first is case 3, "France is a country on the continent
# of") and say so; every step writes its report; the LEACE step gates the probe.
# The verdict is the model's: exit 0 or 1 both pass, 2 or 3 fail. Several
# minutes on 2 cores; skipped (77) without the model or the names package.
# Usage: smollm2_demo_check.sh EDITGATE PYTHON SOURCE_DIR
set -u
cli="$1"; python="$2"; src="$3"
"$cli" inspect --model smollm2 >/dev/null 2>&1 || { echo "skip: no smollm2 model (scripts/setup.sh)"; exit 77; }
"$python" -c 'import names' 2>/dev/null || { echo "skip: PyPI names not installed (scripts/setup.sh)"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$python" "$src/fixtures/smollm2/make_name_gender.py" "$tmp/name_gender.json" --per-class 100 || exit 1
"$cli" demo --model smollm2 --rome-cases 5 --memit-cases 5 --concept-dataset "$tmp/name_gender.json" \
  --report-dir "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr"
code=$?
cat "$tmp/stdout"
if [[ $code -ne 0 && $code -ne 1 ]]; then
  echo "FAIL: demo exited $code"; cat "$tmp/stderr"; exit 1
fi
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for step in rome memit memit-ripple leace-first_name_gender; do
  [[ -f "$tmp/out/$step/report.json" ]] || fail "no report for step $step"
done
# The picks: 5 facts each, case 3 (France at position 0) not among them, and said.
for picks in rome memit; do
  "$python" - "$tmp/out/$picks.requests.json" <<'PY' || fail "$picks.requests.json holds the wrong facts"
import json, sys
ids = [str(r["case_id"]) for r in json.load(open(sys.argv[1]))]
sys.exit(0 if len(ids) == 5 and "3" not in ids and ids[0] == "0" else 1)
PY
done
grep -q "left out of rome.requests.json: case 3 (France)" "$tmp/stderr" || fail "the demo did not say which facts it left out"
grep -q '"LinearProbeRecovery"' "$tmp/out/leace-first_name_gender/report.json" || fail "the LEACE step did not gate the probe"
grep -q "behaviour (is_a" "$tmp/stdout" || fail "the LEACE step printed no behavioural check"
exit $((failures > 0))

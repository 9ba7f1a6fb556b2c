#!/usr/bin/env bash
# LEACE on first-name gender in SmolLM2-135M end to end (issue 20 item 4):
# generates the name-gender concept dataset into the build directory from the
# PyPI `names` package's census lists (fixtures/smollm2/make_name_gender.py;
# deterministic, never committed), fits the eraser at one layer on 60 % of the
# names and checks, on the other 40 % (unseen names, 5-fold CV by name):
# the concept is readable before, the eraser's gate after (point within
# chance + 0.02, interval's upper end within chance + 0.05), and the
# behavioural gap of "NAME is a" -> log P(" woman") - log P(" man") between
# the classes shrinks. Exit 77 (skipped) without the names package or the model.
# Usage: check_name_gender.sh EDITGATE PYTHON SOURCE_DIR WORK_DIR HOOK
set -euo pipefail
editgate="$1"; python="$2"; src="$3"; work="$4"; hook="$5"
"$python" -c 'import names' 2>/dev/null || { echo "check_name_gender: PyPI names not installed (scripts/setup.sh)"; exit 77; }
"$editgate" inspect --model smollm2 >/dev/null 2>&1 || { echo "check_name_gender: no smollm2 model (scripts/setup.sh)"; exit 77; }
mkdir -p "$work"
"$python" "$src/fixtures/smollm2/make_name_gender.py" "$work/name_gender.json"
start=$(date +%s)
"$editgate" erase-model --model smollm2 --device cpu --dataset "$work/name_gender.json" --hook "$hook" \
  --out "$work/name-gender-eraser" --force --resplits 0 --no-quadratic --behaviour is_a --json \
  >"$work/name_gender_report.json"
echo "check_name_gender: erase-model took $(( $(date +%s) - start )) s"
"$python" - "$work/name_gender_report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
b, a = r["linear_before"], r["linear_after"]
chance = a["chance_accuracy"]
gap_b, gap_a = r["behaviour_base"]["gap"], r["behaviour_erased"]["gap"]
print(f"probe before {b['accuracy']:.4f}, after {a['accuracy']:.4f} {a['accuracy_ci95']} (chance {chance:.4f}, "
      f"{a['n_test']} rows of {a['n_groups']} names); behaviour gap {gap_b:.3f} -> {gap_a:.3f} nats")
bad = []
if b["accuracy"] < 0.75: bad.append("the concept is not readable before erasure")
if a["accuracy"] - chance > 0.02: bad.append("after erasure the point estimate is above chance + 0.02")
if a["accuracy_ci95"][1] - chance > 0.05: bad.append("after erasure the interval's upper end is above chance + 0.05")
if not abs(gap_a) < abs(gap_b): bad.append("the behavioural gap did not shrink")
for m in bad: print("check_name_gender: FAIL:", m)
sys.exit(1 if bad else 0)
PY

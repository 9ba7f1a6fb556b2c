#!/usr/bin/env bash
# Runs `editgate demo` and checks what it must deliver: every gate passes on the
# committed fixtures (exit 0; 1 would be a gate failing, 2 or 3 an error), and for
# each step (ROME, ROME 10 in a row, MEMIT, LEACE on gender) writes
# report.json, report.html and a junit.xml that validates against both JUnit
# schemas. Usage: check_demo.sh EDITGATE OUT SCHEMAS
set -uo pipefail
editgate="$1"; out="$2"; schemas="$3"
rm -rf "$out"
"$editgate" demo --report-dir "$out"
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "check_demo: editgate demo exited $rc (0: every gate passed)" >&2
  exit 1
fi
for step in rome rome-sequential memit leace-gender; do
  for f in report.json report.html junit.xml; do
    [[ -s "$out/$step/$f" ]] || { echo "check_demo: missing $out/$step/$f" >&2; exit 1; }
  done
  for xsd in junit-10.xsd ant-junit.xsd; do
    xmllint --noout --schema "$schemas/$xsd" "$out/$step/junit.xml" 2>/dev/null ||
      { echo "check_demo: $out/$step/junit.xml does not validate against $xsd" >&2; exit 1; }
  done
done
for step in rome rome-sequential memit; do
  [[ -s "$out/$step/checkpoint/edit_manifest.json" ]] || { echo "check_demo: no manifest for $step" >&2; exit 1; }
done
echo "check_demo: demo passed every gate; every report written and valid"

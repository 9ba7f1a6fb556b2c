#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS, seeded with the small files of the
# malformed-input corpus and the fixture's JSON files (copied into a fresh
# corpus directory, so the checked-out tree is never written). Prints the
# executions and coverage; a crash, leak, sanitizer report or uncaught
# exception fails the test and leaves the reproducer in the working directory.
# usage: run_fuzz.sh FUZZER SECONDS MALFORMED_DIR FIXTURE_DIR
set -euo pipefail
fuzzer="$1" seconds="$2" malformed="$3" fixture="$4"
work="$(mktemp -d "${TMPDIR:-/tmp}/editgate-fuzz-XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
# Seeds: regular files under 64 KiB (the corpus's checkpoint cases link to the
# fixture's multi-megabyte weights, which seed nothing here).
find "$malformed" "$fixture" -maxdepth 4 -type f -size -64k ! -name cases.json -print0 |
  while IFS= read -r -d '' f; do cp "$f" "$work/corpus/$(echo "$f" | sha1sum | cut -c1-16)"; done
echo "$(ls "$work/corpus" | wc -l) seed files"
cd "$work"
status=0
"$fuzzer" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
  -artifact_prefix="$PWD/" corpus >fuzz.log 2>&1 || status=$?
grep -E "^#[0-9]+.*(INITED|DONE)|stat::|ERROR|SUMMARY|Test unit written|uncaught|deadly" fuzz.log || true
[[ $status -eq 0 ]] || tail -n 40 fuzz.log
if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
  mkdir -p "$OLDPWD/fuzz-artifacts"
  cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$OLDPWD/fuzz-artifacts/" 2>/dev/null || true
  echo "findings copied to $OLDPWD/fuzz-artifacts"
  exit 1
fi
exit "$status"

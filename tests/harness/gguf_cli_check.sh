#!/usr/bin/env bash
# `editgate inspect|tokenize|score|generate --model FILE.gguf` on malformed or
# unsupported GGUF files: exit 2 and one line on stderr naming the file and the
# field, as for a bad safetensors checkpoint; an unknown --model alias too.
# Usage: gguf_cli_check.sh EDITGATE_BINARY
set -u
cli="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect NAME FIELD ARGS...: exit 2, one stderr line containing FIELD.
expect() {
  local name="$1" field="$2"
  shift 2
  OMP_NUM_THREADS=1 "$cli" "$@" >"$tmp/out" 2>"$tmp/err"
  local code=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [[ $code -ne 2 || $lines -ne 1 ]] || ! grep -qF -- "$field" "$tmp/err"; then
    echo "FAIL $name: exit $code, $lines stderr line(s), expected 2, 1 and '$field':"
    cat "$tmp/err"
    failures=$((failures + 1))
  else
    echo "ok   $name: $(cat "$tmp/err")"
  fi
}

u64() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x00\\x00\\x00\\x00\\x00\\x00"; }
str() { u64 ${#1}; printf '%s' "$1"; }

printf 'GGUX\x03\x00\x00\x00' >"$tmp/magic.gguf"; u64 0 >>"$tmp/magic.gguf"; u64 0 >>"$tmp/magic.gguf"
printf 'GGUF\x03\x00\x00\x00' >"$tmp/short.gguf"
{ printf 'GGUF\x03\x00\x00\x00'; u64 0; u64 1; str general.architecture; printf '\x08\x00\x00\x00'; str mamba; } >"$tmp/mamba.gguf"
{ printf 'GGUF\x03\x00\x00\x00'; u64 0; u64 1; str general.architecture; printf '\x08\x00\x00\x00'; str gemma3; } >"$tmp/gemma3.gguf"
{ printf 'GGUF\x03\x00\x00\x00'; u64 1; u64 1; str general.architecture; printf '\x08\x00\x00\x00'; str llama
  str token_embd.weight; printf '\x02\x00\x00\x00'; u64 8; u64 4; printf '\x00\x00\x00\x00'; u64 0
  printf '\x00%.0s' {1..10}; } >"$tmp/truncated.gguf"  # 2 bytes of padding, 8 of the tensor's 128

expect "bad magic (inspect)" "$tmp/magic.gguf: magic" inspect --model "$tmp/magic.gguf"
expect "short file (score)" "$tmp/short.gguf: header" score --model "$tmp/short.gguf" --prompt a --continuation " b"
expect "mamba (generate)" "$tmp/mamba.gguf: metadata 'general.architecture'" generate --model "$tmp/mamba.gguf" --prompt a
expect "gemma3 without metadata (inspect)" "$tmp/gemma3.gguf: metadata 'gemma3.embedding_length'" inspect --model "$tmp/gemma3.gguf"
expect "data past the end (tokenize)" "$tmp/truncated.gguf: tensor 'token_embd.weight': offset" tokenize --model "$tmp/truncated.gguf" hi
expect "unknown alias" "--model" inspect --model no-such-model
exit $((failures > 0))

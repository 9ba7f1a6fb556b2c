#!/usr/bin/env bash
# Whole-process peak memory of `editgate erase`: the workload of issue 22
# (n 200,000 x d 256 float32, 5 classes with shifted means; 205 MB of X), made
# with the venv's torch, then one `editgate erase` under /usr/bin/time -v.
# Whole process because that is what a user's machine sees: libtorch's own
# resident pages, the mapped input and every copy count. Prints the peak RSS,
# its ratio to X's size (the target is <= 3), and the wall time; --json FILE
# also writes them as JSON.
#
#   suites/bench/erase_memory_bench.sh build/cli/editgate [N] [D] [K] [--json FILE]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $# -ge 1 ]] || { echo "usage: $0 EDITGATE [N] [D] [K] [--json FILE]" >&2; exit 2; }
editgate="$1"; shift
json_out=""
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --json) json_out="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
n="${args[0]:-200000}"; d="${args[1]:-256}"; k="${args[2]:-5}"
python="${EDITGATE_PYTHON:-$root/.venv/bin/python}"
[[ -x "$editgate" ]] || { echo "$0: '$editgate' is not an executable editgate binary" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "$0: /usr/bin/time (GNU time) is needed for the peak RSS" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" - "$work/in.safetensors" "$n" "$d" "$k" <<'EOF'
import sys, torch
from safetensors.torch import save_file
path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
g = torch.Generator().manual_seed(0)
z = torch.randint(k, (n,), generator=g)
x = torch.randn(n, d, generator=g) + torch.randn(k, d, generator=g)[z] * 0.5
save_file({"X": x.contiguous(), "Z": z}, path)
EOF

input_bytes=$((n * d * 4))
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" /usr/bin/time -v -o "$work/time.txt" \
  "$editgate" erase --in "$work/in.safetensors" --out "$work/out.safetensors" >"$work/stdout.txt"
peak_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")"
user="$(awk -F': ' '/User time/ {print $2}' "$work/time.txt")"
peak_bytes=$((peak_kb * 1024))
ratio="$(awk -v p="$peak_bytes" -v i="$input_bytes" 'BEGIN {printf "%.2f", p / i}')"
echo "editgate erase, n $n x d $d float32, $k classes: X $((input_bytes / 1000000)) MB"
echo "peak RSS $((peak_bytes / 1000000)) MB = ${ratio}x the input (target <= 3x); wall $wall, user ${user} s"
head -c 300 "$work/stdout.txt"
if [[ -n "$json_out" ]]; then
  printf '{"n": %d, "d": %d, "k": %d, "input_bytes": %d, "peak_rss_bytes": %d, "peak_rss_over_input": %s, "wall": "%s", "user_s": %s}\n' \
    "$n" "$d" "$k" "$input_bytes" "$peak_bytes" "$ratio" "$wall" "$user" >"$json_out"
fi

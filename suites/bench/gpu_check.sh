#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU and a PyTorch install, builds
# editgate against that PyTorch's libtorch (EDITGATE_PYTHON, default python3),
# runs the device-aware tests with EDITGATE_DEVICE=cuda, runs the GPU
# benchmarks (GPT-2 XL- and GPT-J-shaped random models: scoring, second-moment
# statistics, ROME per edit, MEMIT and its z optimisation batched vs serial,
# LEACE fit; Llama-3-8B-shaped: scoring, statistics, ROME per edit) and prints
# one short table. Logs, JUnit XML and benchmark JSON go
# to EDITGATE_GPU_CHECK_OUT, else $OUT when set, else <build>/gpu_check. Each
# step gets what is left of EDITGATE_GPU_CHECK_SECONDS (default 480), so the
# table is printed in time. EDITGATE_GPU_CHECK_XL_FILTER / _J_FILTER /
# _LLAMA_FILTER replace the benchmark filters of the three benchmark steps
# (empty: skip the step). With the tests and all three steps the budget is
# likely to run out before the Llama step; for Llama-3-8B alone (about 2
# minutes of benchmarks, estimated, not measured): EDITGATE_GPU_CHECK_TESTS=0
# EDITGATE_GPU_CHECK_XL_FILTER= EDITGATE_GPU_CHECK_J_FILTER=. Llama-3-8B
# registers where two fp32 copies (64 GB) fit: H100 80 GB and H200.
#
# EDITGATE_DEPS_DEBS=<dir of .deb files>: for machines without the Debian dev
# packages (nlohmann-json, CLI11, gtest, benchmark, pugixml, pcre2,
# sentencepiece, openssl, zlib, pkgconf): unpacked under /tmp/editgate-deps, never /.
# Fetch them on a Debian 12 machine with
#   apt-get download nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev googletest \
#     libbenchmark-dev libbenchmark1debian libpugixml-dev libpugixml1v5 libpcre2-dev \
#     libpcre2-8-0 libsentencepiece-dev libsentencepiece0 libprotobuf-lite32 libssl-dev \
#     libssl3 zlib1g-dev zlib1g pkgconf pkgconf-bin libpkgconf3
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="${EDITGATE_PYTHON:-python3}"
build="${EDITGATE_BUILD_DIR:-$root/build-gpu-check}"
out="${EDITGATE_GPU_CHECK_OUT:-${OUT:-$build/gpu_check}}"
jobs="${EDITGATE_JOBS:-$(nproc)}"
budget="${EDITGATE_GPU_CHECK_SECONDS:-480}"
start=$SECONDS
mkdir -p "$out" "$build"
say() { echo "[gpu_check $((SECONDS - start))s] $*"; }
left() { echo $((budget - (SECONDS - start))); }
# run_for <max seconds> <log name> cmd...: bounded by the time left, logged to $out.
run_for() {
  local cap=$1 name=$2
  shift 2
  local t
  t=$(left)
  ((t > cap)) && t=$cap
  if ((t < 10)); then
    say "$name: skipped, out of time"
    return 124
  fi
  say "$name (at most ${t}s)"
  timeout --signal=INT --kill-after=10 "$t" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -n 5 "$out/$name.log"
  say "$name: exit $rc"
  return $rc
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" ||
  { echo "gpu_check: no NVIDIA GPU (nvidia-smi failed)" >&2; exit 2; }
"$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))" |
  tee -a "$out/gpu.txt" || { echo "gpu_check: '$python' cannot import torch with CUDA" >&2; exit 2; }

cmake_args=()
if [[ -n "${EDITGATE_DEPS_DEBS:-}" ]]; then
  deps=/tmp/editgate-deps
  rm -rf "$deps"
  mkdir -p "$deps"
  for f in "$EDITGATE_DEPS_DEBS"/*.deb; do
    if command -v dpkg >/dev/null; then
      dpkg -x "$f" "$deps"
    else  # a .deb is an ar archive holding data.tar.*
      ar p "$f" "$(ar t "$f" | grep '^data.tar')" | tar -xJ -C "$deps"
    fi
  done
  lib="$deps/usr/lib/x86_64-linux-gnu"
  # The packages' .pc files say prefix=/usr.
  find "$deps" -name '*.pc' -exec sed -i "s|^prefix=/usr\$|prefix=$deps/usr|" {} +
  # pkgconf needs its own libpkgconf; nothing else should see the unpacked libraries at configure time.
  printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "$lib" "$deps/usr/bin/pkgconf" >"$deps/pkg-config"
  chmod +x "$deps/pkg-config"
  export PKG_CONFIG_PATH="$lib/pkgconfig:$deps/usr/share/pkgconfig"
  export CMAKE_PREFIX_PATH="$deps/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
  # OpenSSL's configuration.h lives in the multiarch include directory.
  export CXXFLAGS="${CXXFLAGS:-} -isystem $deps/usr/include/x86_64-linux-gnu"
  cmake_args+=(-DPKG_CONFIG_EXECUTABLE="$deps/pkg-config" -DOPENSSL_ROOT_DIR="$deps/usr")
  # Binaries find the libraries they link through their RUNPATH; only the
  # indirect ones (sentencepiece's protobuf-lite) need a search path, and only
  # they go on it, so the machine's own zlib/openssl stay in use.
  mkdir -p "$deps/runlib"
  ln -sf "$lib"/libprotobuf-lite.so.* "$deps/runlib/"
  run_env=(env "LD_LIBRARY_PATH=$deps/runlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
else
  run_env=(env)
fi

# CMake 4 refuses packages' old cmake_policy(VERSION) floors without this; older CMake ignores it.
export CMAKE_POLICY_VERSION_MINIMUM=3.5
cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -n1)
run_for 120 configure cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
  -DEDITGATE_PYTHON="$(command -v "$python")" -DEDITGATE_BUILD_BENCHMARKS=ON -DEDITGATE_CUDA=ON \
  -DTORCH_CUDA_ARCH_LIST="$cap" -DCMAKE_CUDA_ARCHITECTURES="${cap/./}" "${cmake_args[@]}" ||
  { cat "$out/configure.log"; exit 1; }
with_tests="${EDITGATE_GPU_CHECK_TESTS:-1}"
targets=(editgate_bench)
[[ "$with_tests" != 0 ]] && targets+=(editgate harness_tests editors_tests)
run_for 300 build cmake --build "$build" -j "$jobs" --target "${targets[@]}" -- -k 0 ||
  { grep -m 20 -B2 -A12 'error' "$out/build.log"; exit 1; }

export EDITGATE_DEVICE=cuda
status=0
# run_tests <name> <binary> [exclude]: the unit and gpu cases on CUDA
# (conformance needs the project venv; `exclude` drops more, as ctest's labels do). A crash does not end
# the run: the binary restarts past the crashed case (at most 5 times), and
# the first crashed case runs once more under cuda-gdb for a backtrace.
run_tests() {
  local name=$1 bin=$2 exclude="*Conformance*${3:+:$3}" i rc crashed crashes=0
  for i in 1 2 3 4 5 6; do
    run_for 90 "$name.$i" "${run_env[@]}" "$bin" --gtest_filter="-$exclude" --gtest_output="xml:$out/$name.$i.xml"
    rc=$?
    if ((rc == 0 || rc == 1 || rc == 124)); then  # 1: failed cases, listed in the log and XML
      ((rc == 0 && crashes)) && rc=1
      return $rc
    fi
    crashed=$(grep '^\[ RUN      \]' "$out/$name.$i.log" | tail -n1 | awk '{print $NF}')
    [[ -z "$crashed" ]] && return $rc
    crashes=1
    say "$name: crashed in $crashed (exit $rc); restarting past it" | tee -a "$out/crashes.txt"
    if command -v cuda-gdb >/dev/null && [[ ! -f "$out/$name.backtrace.log" ]]; then
      timeout 60 "${run_env[@]}" cuda-gdb -batch -ex run -ex bt --args "$bin" --gtest_filter="$crashed" \
        >"$out/$name.backtrace.log" 2>&1
      grep -m 12 '^#' "$out/$name.backtrace.log"
    fi
    exclude+=":$crashed"
    exclude+=$(grep -oP '^\[ +(OK|FAILED|SKIPPED) +\] \K[^ ]+' "$out/$name.$i.log" | sort -u | sed 's/^/:/' | tr -d '\n')
  done
  return 1
}
if [[ "$with_tests" != 0 ]]; then
  run_tests harness_tests "$build/tests/harness_tests" || status=1
  # FixtureEdits / FixtureMend: ctest label targets
  run_tests editors_tests "$build/tests/editors_tests" "FixtureEdits.*:FixtureMend.*" || status=1
fi

bench=("${run_env[@]}" "$build/suites/bench/editgate_bench" --benchmark_counters_tabular=true
  --benchmark_out_format=json)
# GPT-2 XL shapes, LEACE and MEMIT z on the fixture: the figures docs/performance.md reports.
xl_filter="${EDITGATE_GPU_CHECK_XL_FILTER-/gpt2-xl|BM_LeaceFit|BM_MemitZ(Batched|Serial)/fixture}"
if [[ -n "$xl_filter" ]]; then
  run_for 200 bench_gpt2xl "${bench[@]}" --benchmark_out="$out/bench_gpt2xl.json" --benchmark_filter="$xl_filter" ||
    status=1
fi
j_filter="${EDITGATE_GPU_CHECK_J_FILTER-BM_(ScoreBatch|Mom2Stats|RomeEdit)/gpt-j}"
if [[ -n "$j_filter" ]]; then
  run_for 240 bench_gptj "${bench[@]}" --benchmark_out="$out/bench_gptj.json" --benchmark_filter="$j_filter" ||
    status=1
fi
# Llama-3-8B shapes (GQA, SwiGLU, untied 128256-word vocabulary), built on the GPU, never written.
llama_filter="${EDITGATE_GPU_CHECK_LLAMA_FILTER-BM_(ScoreBatch|Mom2Stats|RomeEdit)/llama3-8b}"
if [[ -n "$llama_filter" ]]; then
  run_for 240 bench_llama3 "${bench[@]}" --benchmark_out="$out/bench_llama3.json" --benchmark_filter="$llama_filter" ||
    status=1
fi

# One short table from the JSON (the machine has Python: it has PyTorch).
"$python" "$root/suites/bench/bench_table.py" "$out"/bench_*.json | tee "$out/table.txt"
for t in harness_tests editors_tests; do
  cat "$out/$t".[0-9].log 2>/dev/null | awk -v t="$t" '
    /^\[       OK \]/ {ok++} /^\[  SKIPPED \] [^0-9]/ && / \(/ {skip++} /^\[  FAILED  \] [^0-9]/ && / \(/ {fail++}
    END {printf "%s: %d passed, %d failed, %d skipped\n", t, ok, fail, skip}' | tee -a "$out/table.txt"
done
[[ -f "$out/crashes.txt" ]] && tee -a "$out/table.txt" <"$out/crashes.txt"
say "done (status $status)"
exit $status

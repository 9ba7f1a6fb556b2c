#pragma once
// A directory of reference outputs written by a Python script under
// tests/conformance/ (transformers, gguf, ...): taken from an environment
// variable that a CTest fixture test sets (one run for all processes), or,
// when a test binary is run by hand, made by running the script once per
// process into a temporary directory that is removed at exit. The script
// writes SKIPPED (why) when its packages are missing and DONE when complete.

#include <filesystem>
#include <string>

namespace editgate::testing {

struct ReferenceDir {
  std::filesystem::path dir;
  std::string skip;   // why the tests skip (reference packages missing)
  std::string error;  // why they fail (the script failed, an incomplete directory)
  bool owned = false;
  ~ReferenceDir();
};

// `env_var` names the directory when set; else `script` (a file name under
// tests/conformance/) is run with the venv's python into a temp dir.
ReferenceDir make_reference_dir(const char* env_var, const std::string& script);

// The whole file as a string ("" when it cannot be read).
std::string read_text_file(const std::filesystem::path& path);

}  // namespace editgate::testing

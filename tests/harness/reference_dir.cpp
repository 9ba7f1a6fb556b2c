#include "tests/harness/reference_dir.h"
#include "harness/remove_tree.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace editgate::testing {
namespace fs = std::filesystem;

ReferenceDir::~ReferenceDir() {
  std::error_code ec;
  if (owned) editgate::harness::remove_tree(dir, ec);
}

std::string read_text_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

void check_complete(ReferenceDir& r, const std::string& script) {
  if (fs::exists(r.dir / "SKIPPED")) {
    r.skip = "reference implementation unavailable: " + read_text_file(r.dir / "SKIPPED");
  } else if (!fs::exists(r.dir / "DONE")) {
    r.error = r.dir.string() + " holds no complete reference run (see the output of " + script + ")";
  }
}

}  // namespace

ReferenceDir make_reference_dir(const char* env_var, const std::string& script) {
  ReferenceDir r;
  if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') {
    r.dir = env;
    check_complete(r, script);
    return r;
  }
  const fs::path python = fs::path(EDITGATE_SOURCE_DIR) / ".venv" / "bin" / "python";
  if (!fs::exists(python)) {
    r.skip = "no " + python.string() + " (run scripts/setup.sh to create the venv with transformers)";
    return r;
  }
  r.dir = fs::temp_directory_path() / ("editgate_" + fs::path(script).stem().string() + "_" + std::to_string(::getpid()));
  r.owned = true;
  const fs::path path = fs::path(EDITGATE_SOURCE_DIR) / "tests" / "conformance" / script;
  const std::string cmd = "'" + python.string() + "' '" + path.string() + "' '" + r.dir.string() + "'";
  if (std::system(cmd.c_str()) != 0) {
    r.error = "reference script failed: " + cmd;
  } else {
    check_complete(r, script);
  }
  return r;
}

}  // namespace editgate::testing

#include "harness/output_guard.h"

#include <nlohmann/json.hpp>


#include "harness/file_io.h"
#include "harness/input_error.h"
#include "harness/safetensors_reader.h"

namespace editgate::harness {
namespace {

namespace fs = std::filesystem;

// Absolute, with symbolic links and ".." resolved as far as the path exists,
// so "a/../b", "./b" and a link to b all compare equal to b.
fs::path resolved(const fs::path& p) {
  std::error_code ec;
  const fs::path abs = fs::absolute(p, ec);
  if (ec) return p.lexically_normal();
  const fs::path canon = fs::weakly_canonical(abs, ec);
  return (ec ? abs.lexically_normal() : canon);
}

// True when `inner` is `outer` or lies below it, compared component by component
// ("/a/bc" is not inside "/a/b").
bool inside(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

bool is_file_kind(std::string_view kind) { return kind == kErasedTensorsOutput; }

// A .safetensors file editgate wrote as `kind` (its "__metadata__" format).
bool editgate_file(const fs::path& path, std::string_view kind) {
  try {
    const auto file = SafetensorsFile::open(path);
    const auto it = file->metadata().find("format");
    return it != file->metadata().end() && it->second == kind;
  } catch (const std::exception&) {
    return false;  // not a safetensors file at all: the user's
  }
}

bool empty_directory(const fs::path& dir) {
  std::error_code ec;
  return fs::directory_iterator(dir, ec) == fs::directory_iterator() && !ec;
}

}  // namespace

std::string output_marker(std::string_view kind) {
  return nlohmann::json{{"producer", "editgate"}, {"kind", kind}}.dump() + "\n";
}

void write_output_marker(const fs::path& dir, std::string_view kind) {
  write_file_checked(dir / kOutputMarkerFile, output_marker(kind));
}

std::string output_kind(const fs::path& dir) {
  if (!fs::is_regular_file(dir / kOutputMarkerFile)) return "";
  // Anything unreadable or malformed is not editgate's marker: the folder counts as the user's.
  std::string text;
  try {
    text = read_file(dir / kOutputMarkerFile, "an output marker", 1 << 16);
  } catch (const InputError&) {
    return "";
  }
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.value("producer", "") != "editgate" || !j.contains("kind") || !j["kind"].is_string()) {
    return "";
  }
  return j["kind"].get<std::string>();
}

void check_output(const OutputRequest& out, const std::vector<fs::path>& inputs) {
  const std::string where = out.path.string();
  const fs::path target = resolved(out.path);
  for (const auto& input : inputs) {
    if (input.empty()) continue;
    const fs::path in = resolved(input);
    const char* relation = target == in            ? "the same path as the input "
                           : inside(in, target)    ? "a directory holding the input "
                           : inside(target, in)    ? "a path inside the input "
                                                   : nullptr;
    if (relation != nullptr) {
      throw InputError(where, out.flag, "an output path apart from every input", relation + input.string(),
                       "writing there would replace or delete it; choose another " + out.flag);
    }
  }
  std::error_code ec;
  const auto status = fs::symlink_status(out.path, ec);
  if (ec || !fs::exists(status)) return;  // nothing there: nothing to lose
  const bool file_kind = is_file_kind(out.kind);
  const bool ours = file_kind ? fs::is_regular_file(status) && editgate_file(out.path, out.kind)
                              : fs::is_directory(status) && output_kind(out.path) == out.kind;
  if (!ours) {
    if (!file_kind && fs::is_directory(status) && empty_directory(out.path)) return;
    const std::string what = file_kind ? "a file editgate did not write as " + out.kind
                             : fs::is_directory(status)
                                 ? "a non-empty directory that is not an editgate " + out.kind + " output (no " +
                                       std::string(kOutputMarkerFile) + " of that kind)"
                                 : "an existing file, not a directory";
    throw InputError(where, out.flag, "a new path, an empty directory or an earlier editgate " + out.kind + " output",
                     what, "editgate never replaces what it did not write, not even with --force; choose another " +
                               out.flag + " or move it away yourself");
  }
  if (!out.force) {
    throw InputError(where, out.flag, "a new path or an empty directory", "an earlier editgate " + out.kind + " output",
                     "pass --force to replace it, or choose another " + out.flag);
  }
}

}  // namespace editgate::harness

#include "harness/json_file.h"

#include <fstream>
#include <sstream>

#include "harness/input_error.h"

namespace editgate::harness {

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", what, "a file that cannot be opened");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers that overflow
    // e.what(): "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ...";
    // the bracketed id means nothing to a user.
    std::string reason = e.what();
    if (const auto at = reason.find("] "); reason.starts_with("[json.exception") && at != std::string::npos) {
      reason = reason.substr(at + 2);
    }
    throw InputError(path.string(), "", "valid JSON", reason, "truncated or hand-edited?");
  }
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace editgate::harness

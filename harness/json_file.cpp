#include "harness/json_file.h"

#include "harness/file_io.h"

namespace editgate::harness {

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what) {
  return parse_json_strict(read_file(path, what), path.string());
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace editgate::harness

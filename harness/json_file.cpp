#include "harness/json_file.h"

#include "harness/file_io.h"

namespace editgate::harness {

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& what) {
  return parse_json_strict(read_file(path, what), path.string());
}

}  // namespace editgate::harness

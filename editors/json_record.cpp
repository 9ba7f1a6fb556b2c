#include "editors/json_record.h"

#include "harness/input_error.h"

namespace editgate::editors {

using nlohmann::json;

JsonRecord::JsonRecord(const json& j, std::string path, std::string where)
    : j_(j), path_(std::move(path)), where_(std::move(where)) {
  if (!j_.is_object()) throw InputError(path_, where_, "an object", j_.type_name());
}

std::string JsonRecord::str(const char* key, bool required) const {
  if (!j_.contains(key) || j_[key].is_null()) {
    if (required) throw InputError(path_, where_ + "." + key, "a string", "nothing (field missing)");
    return {};
  }
  if (!j_[key].is_string()) throw InputError(path_, where_ + "." + key, "a string", j_[key].type_name());
  return j_[key].get<std::string>();
}

std::vector<std::string> JsonRecord::strs(const char* key) const {
  std::vector<std::string> out;
  if (!j_.contains(key) || j_[key].is_null()) return out;
  const auto& a = j_[key];
  if (a.is_string()) return {a.get<std::string>()};
  if (!a.is_array()) throw InputError(path_, where_ + "." + key, "a list of strings", a.type_name());
  for (size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) {
      throw InputError(path_, where_ + "." + key + "[" + std::to_string(i) + "]", "a string", a[i].type_name());
    }
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

const json& JsonRecord::at(const char* key) const {
  if (!j_.contains(key)) throw InputError(path_, where_ + "." + key, "present", "nothing (field missing)");
  return j_[key];
}

}  // namespace editgate::editors

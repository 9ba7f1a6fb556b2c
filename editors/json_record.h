#pragma once
// JsonRecord: field access into one record of a request file that names the
// file, the record and the field in every InputError ("record 3.subject:
// expected a string, got number"). Owns only the reading of fields; what a
// record means belongs to the loaders that use it (request_formats.h here,
// the RippleEdits tests and CoT items in suites/case_set.h).

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace editgate::editors {

class JsonRecord {
 public:
  // `j` must outlive the record; InputError when it is not an object.
  JsonRecord(const nlohmann::json& j, std::string path, std::string where);

  // The string at `key`; "" when absent or null and not `required`.
  std::string str(const char* key, bool required = true) const;
  // A list of strings (a single string counts as a list of one); empty when absent.
  std::vector<std::string> strs(const char* key) const;
  // The value at `key`, which must be present.
  const nlohmann::json& at(const char* key) const;

  const std::string& path() const { return path_; }
  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& j_;
  std::string path_;   // the file, for messages
  std::string where_;  // "record 3", "facts[7]": the record, for messages
};

}  // namespace editgate::editors

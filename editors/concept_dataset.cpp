#include "editors/concept_dataset.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

#include "harness/input_error.h"
#include "harness/text_model.h"

namespace editgate::editors {
namespace {

using Json = nlohmann::json;

std::string type_name(const Json& j) { return j.is_null() ? "null" : std::string(j.type_name()); }

struct Reader {
  std::string file;

  [[noreturn]] void fail(const std::string& field, const std::string& expected, const std::string& got,
                         const std::string& hint = {}) const {
    throw InputError(file, field, expected, got, hint);
  }
  const Json& get(const Json& obj, const std::string& key, const std::string& field) const {
    const auto it = obj.find(key);
    if (it == obj.end()) fail(field, "a value", "nothing (field missing)");
    return *it;
  }
  int64_t integer(const Json& j, const std::string& field) const {
    if (!j.is_number_integer()) fail(field, "an integer", type_name(j) + " " + j.dump());
    return j.get<int64_t>();
  }
  std::string string(const Json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, "a string", type_name(j));
    return j.get<std::string>();
  }
  std::string optional_string(const Json& obj, const std::string& key, const std::string& field) const {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return {};
    return string(*it, field + "." + key);
  }
};

ConceptRecord parse_record(const Reader& rd, const Json& j, const std::string& field, int64_t k) {
  if (!j.is_object()) rd.fail(field, "a record object", type_name(j));
  ConceptRecord r;
  r.field = field;
  r.prompt = rd.string(rd.get(j, "prompt", field + ".prompt"), field + ".prompt");
  if (r.prompt.empty()) rd.fail(field + ".prompt", "non-empty text", "\"\"");
  r.label = rd.integer(rd.get(j, "label", field + ".label"), field + ".label");
  if (r.label < 0 || r.label >= k) {
    rd.fail(field + ".label", "an integer in [0, " + std::to_string(k) + ") indexing 'classes'", std::to_string(r.label));
  }
  if (const auto it = j.find("position"); it != j.end() && !it->is_null()) {
    r.position = rd.integer(*it, field + ".position");
    if (*r.position < 0) rd.fail(field + ".position", "a token index >= 0", std::to_string(*r.position));
  }
  if (const auto it = j.find("subject_span"); it != j.end() && !it->is_null()) {
    if (!it->is_array() || it->size() != 2) rd.fail(field + ".subject_span", "[start, end]", it->dump());
    const int64_t start = rd.integer((*it)[0], field + ".subject_span[0]");
    const int64_t end = rd.integer((*it)[1], field + ".subject_span[1]");
    std::istringstream words(r.prompt);
    int64_t n_words = 0;
    for (std::string w; words >> w;) ++n_words;
    if (start < 0 || end <= start || end > n_words) {
      rd.fail(field + ".subject_span", "0 <= start < end <= " + std::to_string(n_words) + " (words in the prompt)",
              it->dump());
    }
    r.subject_span = std::make_pair(start, end);
  }
  if (!r.position && !r.subject_span) {
    rd.fail(field, "a 'subject_span' or a 'position'", "neither", "the activation is read at that token");
  }
  if (const auto it = j.find("subject_id"); it != j.end() && !it->is_null()) {
    if (it->is_string()) {
      r.subject_id = it->get<std::string>();
    } else if (it->is_number_integer()) {
      r.subject_id = std::to_string(it->get<int64_t>());
    } else {
      rd.fail(field + ".subject_id", "a string or an integer", type_name(*it));
    }
  }
  r.relation = rd.optional_string(j, "relation", field);
  r.object = rd.optional_string(j, "object", field);
  return r;
}

}  // namespace

ConceptDataset ConceptDataset::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", "a readable concept dataset file (JSON)", "a file that cannot be opened");
  Json j;
  try {
    j = Json::parse(in);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for numbers that overflow
    throw InputError(path.string(), "", "valid JSON", e.what(), "truncated file or hand edit?");
  }
  return parse(j, path);
}

ConceptDataset ConceptDataset::parse(const Json& j, const std::filesystem::path& path) {
  const Reader rd{path.string()};
  if (!j.is_object()) rd.fail("", "a JSON object", type_name(j));
  const std::string format = rd.string(rd.get(j, "format", "format"), "format");
  if (format != kConceptDatasetFormat) {
    rd.fail("format", std::string("\"") + kConceptDatasetFormat + "\"", "\"" + format + "\"",
            "documented in editors/concept_dataset.h");
  }
  const int64_t version = rd.integer(rd.get(j, "version", "version"), "version");
  if (version != kConceptDatasetVersion) rd.fail("version", "1", std::to_string(version));

  ConceptDataset ds;
  ds.path = path;
  ds.concept_name = rd.optional_string(j, "concept", "");
  if (const auto it = j.find("concept_relations"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) rd.fail("concept_relations", "a list of relation names", type_name(*it));
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        rd.fail("concept_relations[" + std::to_string(i) + "]", "a relation name (string)", type_name((*it)[i]));
      }
      ds.concept_relations.push_back((*it)[i].get<std::string>());
    }
  }
  const Json& classes = rd.get(j, "classes", "classes");
  if (!classes.is_array() || classes.size() < 2) {
    rd.fail("classes", "a list of at least 2 class names", classes.is_array() ? std::to_string(classes.size()) + " names" : type_name(classes));
  }
  for (size_t i = 0; i < classes.size(); ++i) ds.classes.push_back(rd.string(classes[i], "classes[" + std::to_string(i) + "]"));

  const Json& splits = rd.get(j, "splits", "splits");
  if (!splits.is_object()) rd.fail("splits", "an object with fit, probe_train, probe_test", type_name(splits));
  const std::pair<const char*, std::vector<ConceptRecord>*> parts[] = {
      {"fit", &ds.fit}, {"probe_train", &ds.probe_train}, {"probe_test", &ds.probe_test}};
  std::map<std::string, std::string> split_of_subject;
  for (const auto& [name, out] : parts) {
    const std::string field = std::string("splits.") + name;
    const Json& list = rd.get(splits, name, field);
    if (!list.is_array() || list.empty()) {
      rd.fail(field, "a non-empty list of records", list.is_array() ? "an empty list" : type_name(list));
    }
    for (size_t i = 0; i < list.size(); ++i) {
      ConceptRecord r = parse_record(rd, list[i], field + "[" + std::to_string(i) + "]", ds.num_classes());
      if (!r.subject_id.empty()) {
        const auto [it, inserted] = split_of_subject.emplace(r.subject_id, name);
        if (!inserted && it->second != name) {
          rd.fail(r.field + ".subject_id", "subjects disjoint across splits",
                  "'" + r.subject_id + "' in both " + it->second + " and " + name,
                  "split by subject, or the probe is scored on what the eraser was fitted on");
        }
      }
      out->push_back(std::move(r));
    }
  }
  return ds;
}

int64_t record_position(const harness::TextModel& tm, const ConceptRecord& record, const std::filesystem::path& path) {
  const std::vector<int64_t> ids = tm.encode_prompt(record.prompt);
  const auto n = static_cast<int64_t>(ids.size());
  if (record.position) {
    if (*record.position >= n) {
      throw InputError(path.string(), record.field + ".position",
                       "a token index below " + std::to_string(n) + " (tokens in the prompt)",
                       std::to_string(*record.position));
    }
    return *record.position;
  }
  // End of word `end - 1` in the original text, so the prefix keeps the prompt's own spacing.
  const int64_t end_word = record.subject_span->second;
  size_t pos = 0;
  int64_t word = 0;
  while (true) {
    pos = record.prompt.find_first_not_of(" \t\n\r", pos);
    const size_t stop = record.prompt.find_first_of(" \t\n\r", pos);
    if (++word == end_word) {
      pos = stop == std::string::npos ? record.prompt.size() : stop;
      break;
    }
    pos = stop;
  }
  const std::vector<int64_t> prefix = tm.encode_prompt(record.prompt.substr(0, pos));
  const bool is_prefix = !prefix.empty() && prefix.size() <= ids.size() && std::equal(prefix.begin(), prefix.end(), ids.begin());
  if (!is_prefix) {
    throw InputError(path.string(), record.field + ".subject_span",
                     "a span whose text tokenises to a prefix of the prompt's tokens",
                     "'" + record.prompt.substr(0, pos) + "' tokenises differently inside the prompt",
                     "give the token index as 'position' instead");
  }
  return static_cast<int64_t>(prefix.size()) - 1;
}

at::Tensor subject_groups(const std::vector<ConceptRecord>& records, std::map<std::string, int64_t>& ids) {
  std::vector<int64_t> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    // Anonymous records get a key no subject_id can take ("" is never stored as an id).
    const std::string key = r.subject_id.empty() ? std::string(1, '\0') + std::to_string(ids.size()) : r.subject_id;
    out.push_back(ids.try_emplace(key, static_cast<int64_t>(ids.size())).first->second);
  }
  return at::tensor(out, at::kLong);
}

bool ConceptDataset::asks_for_concept(const ConceptRecord& r) const {
  return std::find(classes.begin(), classes.end(), r.object) != classes.end() ||
         (!r.relation.empty() &&
          std::find(concept_relations.begin(), concept_relations.end(), r.relation) != concept_relations.end());
}

}  // namespace editgate::editors

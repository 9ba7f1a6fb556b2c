#include "editors/edit_request.h"
#include "harness/json_file.h"

#include <nlohmann/json.hpp>

#include <set>

#include "harness/input_error.h"

namespace editgate::editors {
namespace {

using nlohmann::json;

std::string type_name(const json& j) { return j.is_null() ? "null" : std::string(j.type_name()); }

// Validation context of one record: names the file and the case in every error.
struct RecordCheck {
  const std::string& path;
  std::string case_label;  // "case_id 7" or "record 3" before the id is known

  InputError fail(const std::string& field, const std::string& expected, const std::string& got,
                  const std::string& hint = {}) const {
    return InputError(path, case_label + ": " + field, expected, got, hint);
  }

  const json& member(const json& obj, const std::string& key, const std::string& field) const {
    const auto it = obj.find(key);
    if (it == obj.end()) throw fail(field, "a field '" + key + "'", "none");
    return *it;
  }

  std::string string_at(const json& obj, const std::string& key, const std::string& field) const {
    const json& v = member(obj, key, field);
    if (!v.is_string()) throw fail(field, "a string", type_name(v));
    return v.get<std::string>();
  }

  // {"str": "..."} as CounterFact writes objects; a bare string is accepted too.
  std::string object_str(const json& obj, const std::string& key, const std::string& field) const {
    const json& v = member(obj, key, field);
    if (v.is_string()) return v.get<std::string>();
    if (!v.is_object()) throw fail(field, "an object {\"str\": ...}", type_name(v));
    return string_at(v, "str", field + ".str");
  }

  // A list of prompts: strings, or objects with a "prompt" string (zsRE-style neighbourhoods).
  std::vector<std::string> prompts(const json& record, const std::string& key) const {
    std::vector<std::string> out;
    const auto it = record.find(key);
    if (it == record.end() || it->is_null()) return out;
    if (!it->is_array()) throw fail(key, "an array of prompts", type_name(*it));
    for (size_t i = 0; i < it->size(); ++i) {
      const json& p = (*it)[i];
      const std::string field = key + "[" + std::to_string(i) + "]";
      if (p.is_string()) {
        out.push_back(p.get<std::string>());
      } else if (p.is_object()) {
        out.push_back(string_at(p, "prompt", field + ".prompt"));
      } else {
        throw fail(field, "a string", type_name(p));
      }
    }
    return out;
  }
};

EditRequest parse_record(const json& record, size_t index, const std::string& path) {
  RecordCheck check{path, "record " + std::to_string(index)};
  if (!record.is_object()) throw check.fail("record", "an object", type_name(record));
  EditRequest r;
  const json& id = check.member(record, "case_id", "case_id");
  if (id.is_number_integer()) {
    r.case_id = std::to_string(id.get<int64_t>());
  } else if (id.is_string() && !id.get<std::string>().empty()) {
    r.case_id = id.get<std::string>();
  } else {
    throw check.fail("case_id", "an integer or a non-empty string", id.dump());
  }
  check.case_label = "case_id " + r.case_id;
  const json& rw = check.member(record, "requested_rewrite", "requested_rewrite");
  if (!rw.is_object()) throw check.fail("requested_rewrite", "an object", type_name(rw));
  r.prompt = check.string_at(rw, "prompt", "requested_rewrite.prompt");
  r.subject = check.string_at(rw, "subject", "requested_rewrite.subject");
  if (r.subject.empty()) throw check.fail("requested_rewrite.subject", "a non-empty subject", "\"\"");
  const size_t slot = r.prompt.find("{}");
  if (slot == std::string::npos) {
    const bool literal = r.prompt.find(r.subject) != std::string::npos;
    throw check.fail("requested_rewrite.prompt", "a prompt with \"{}\" where the subject goes",
                     json(r.prompt).dump(),
                     literal ? "the prompt spells the subject out; replace it with {}"
                             : "the subject '" + r.subject + "' is not in the prompt");
  }
  if (r.prompt.find("{}", slot + 2) != std::string::npos) {
    throw check.fail("requested_rewrite.prompt", "\"{}\" exactly once", json(r.prompt).dump());
  }
  r.target_new = check.object_str(rw, "target_new", "requested_rewrite.target_new");
  if (r.target_new.find_first_not_of(" \t\n") == std::string::npos) {
    throw check.fail("requested_rewrite.target_new.str", "a non-empty target", json(r.target_new).dump());
  }
  if (rw.contains("target_true") && !rw["target_true"].is_null()) {
    r.target_true = check.object_str(rw, "target_true", "requested_rewrite.target_true");
  }
  if (rw.contains("relation_id") && rw["relation_id"].is_string()) r.relation_id = rw["relation_id"].get<std::string>();
  r.paraphrase_prompts = check.prompts(record, "paraphrase_prompts");
  r.neighborhood_prompts = check.prompts(record, "neighborhood_prompts");
  r.attribute_prompts = check.prompts(record, "attribute_prompts");
  r.generation_prompts = check.prompts(record, "generation_prompts");
  return r;
}

}  // namespace

std::string EditRequest::filled_prompt() const {
  std::string out = prompt;
  const size_t slot = out.find("{}");
  if (slot != std::string::npos) out.replace(slot, 2, subject);
  return out;
}

size_t EditRequest::subject_end() const {
  const size_t slot = prompt.find("{}");
  return (slot == std::string::npos ? 0 : slot) + subject.size();
}

std::vector<EditRequest> parse_counterfact_requests(const nlohmann::json& doc, const std::string& path) {
  std::vector<EditRequest> out;
  if (doc.is_object()) {
    out.push_back(parse_record(doc, 0, path));
    return out;
  }
  if (!doc.is_array()) throw InputError(path, "", "a JSON array of CounterFact records", type_name(doc));
  if (doc.empty()) throw InputError(path, "", "at least one edit request", "an empty array");
  std::set<std::string> seen;
  for (size_t i = 0; i < doc.size(); ++i) {
    out.push_back(parse_record(doc[i], i, path));
    if (!seen.insert(out.back().case_id).second) {
      throw InputError(path, "record " + std::to_string(i) + ": case_id", "unique case ids",
                       "a second case_id " + out.back().case_id);
    }
  }
  return out;
}

std::vector<EditRequest> load_counterfact_requests(const std::filesystem::path& path) {
  return parse_counterfact_requests(harness::read_json_file(path), path.string());
}

nlohmann::ordered_json to_counterfact_json(const EditRequest& r) {
  nlohmann::ordered_json rw = {{"prompt", r.prompt},
                               {"subject", r.subject},
                               {"target_new", {{"str", r.target_new}}},
                               {"target_true", {{"str", r.target_true}}}};
  if (!r.relation_id.empty()) rw["relation_id"] = r.relation_id;
  nlohmann::ordered_json j = {{"case_id", r.case_id}, {"requested_rewrite", rw}};
  if (!r.paraphrase_prompts.empty()) j["paraphrase_prompts"] = r.paraphrase_prompts;
  if (!r.neighborhood_prompts.empty()) j["neighborhood_prompts"] = r.neighborhood_prompts;
  if (!r.attribute_prompts.empty()) j["attribute_prompts"] = r.attribute_prompts;
  if (!r.generation_prompts.empty()) j["generation_prompts"] = r.generation_prompts;
  return j;
}

std::string with_leading_space(const std::string& target) {
  if (!target.empty() && (target.front() == ' ' || target.front() == '\t' || target.front() == '\n')) return target;
  return " " + target;
}

}  // namespace editgate::editors

#include "suites/case_set.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "harness/input_error.h"
#include "harness/json_file.h"

namespace editgate::suites {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Field access that names the record and the field in every error.
class Record {
 public:
  Record(const json& j, std::string path, std::string where) : j_(j), path_(std::move(path)), where_(std::move(where)) {
    if (!j_.is_object()) throw InputError(path_, where_, "an object", j_.type_name());
  }
  std::string str(const char* key, bool required = true) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      if (required) throw InputError(path_, where_ + "." + key, "a string", "nothing (field missing)");
      return {};
    }
    if (!j_[key].is_string()) throw InputError(path_, where_ + "." + key, "a string", j_[key].type_name());
    return j_[key].get<std::string>();
  }
  std::vector<std::string> strs(const char* key) const {
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
  const json& at(const char* key) const {
    if (!j_.contains(key)) throw InputError(path_, where_ + "." + key, "present", "nothing (field missing)");
    return j_[key];
  }
  const std::string& path() const { return path_; }
  const std::string& where() const { return where_; }

 private:
  const json& j_;
  std::string path_;
  std::string where_;
};

// "{}" in place of the subject's first occurrence in a full question.
std::string cloze_of(const std::string& text, const std::string& subject, const Record& r, const char* field) {
  const auto pos = text.find(subject);
  if (subject.empty() || pos == std::string::npos) {
    throw InputError(r.path(), r.where() + "." + field, "a prompt containing the subject '" + subject + "'",
                     "'" + text + "'");
  }
  return text.substr(0, pos) + "{}" + text.substr(pos + subject.size());
}

json as_counterfact(const std::string& id, const std::string& prompt, const std::string& subject,
                    const std::string& target_new, const std::string& target_true) {
  return json{{"case_id", id},
              {"requested_rewrite",
               {{"prompt", prompt}, {"subject", subject}, {"target_new", {{"str", target_new}}},
                {"target_true", {{"str", target_true}}}}}};
}

std::vector<editors::EditRequest> load_zsre(const json& doc, const std::string& path) {
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const Record r(doc[i], path, "record " + std::to_string(i));
    const auto subject = r.str("subject");
    const auto answers = r.strs("answers");
    json rec = as_counterfact(std::to_string(i), cloze_of(r.str("src"), subject, r, "src"), subject, r.str("alt"),
                              answers.empty() ? "" : answers.front());
    rec["paraphrase_prompts"] = r.strs("rephrase");
    cf.push_back(rec);
  }
  return editors::parse_counterfact_requests(cf, path);
}

std::vector<editors::EditRequest> load_easyedit(const json& doc, const std::string& path) {
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const Record r(doc[i], path, "record " + std::to_string(i));
    const auto subject = r.str("subject");
    json rec = as_counterfact(std::to_string(i), cloze_of(r.str("prompt"), subject, r, "prompt"), subject,
                              r.str("target_new"), r.str("ground_truth", false));
    rec["paraphrase_prompts"] = r.strs("rephrase_prompt");
    cf.push_back(rec);
  }
  return editors::parse_counterfact_requests(cf, path);
}

std::vector<editors::EditRequest> load_mquake(const json& doc, const std::string& path) {
  // Each requested rewrite of a multi-hop case is one edit; the multi-hop
  // questions themselves belong to the ripple/CoT suites.
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const Record r(doc[i], path, "record " + std::to_string(i));
    const auto& rewrites = r.at("requested_rewrite");
    if (!rewrites.is_array()) throw InputError(path, r.where() + ".requested_rewrite", "a list", rewrites.type_name());
    for (size_t k = 0; k < rewrites.size(); ++k) {
      json rec = rewrites[k];
      json wrapped = {{"case_id", std::to_string(i) + "_" + std::to_string(k)}, {"requested_rewrite", rec}};
      cf.push_back(wrapped);
    }
  }
  return editors::parse_counterfact_requests(cf, path);
}

std::vector<RippleQuery> ripple_queries(const json& a, const Record& r, const std::string& field) {
  std::vector<RippleQuery> out;
  if (!a.is_array()) throw InputError(r.path(), r.where() + "." + field, "a list", a.type_name());
  for (size_t i = 0; i < a.size(); ++i) {
    const Record q(a[i], r.path(), r.where() + "." + field + "[" + std::to_string(i) + "]");
    RippleQuery query{q.str("prompt"), {}};
    const auto& answers = q.at("answers");
    if (!answers.is_array()) throw InputError(r.path(), q.where() + ".answers", "a list", answers.type_name());
    for (size_t k = 0; k < answers.size(); ++k) {
      const Record ans(answers[k], r.path(), q.where() + ".answers[" + std::to_string(k) + "]");
      query.answers.push_back(ans.str("value"));
      for (auto& alias : ans.strs("aliases")) query.answers.push_back(std::move(alias));
    }
    out.push_back(std::move(query));
  }
  return out;
}

std::vector<RippleCase> load_ripple(const json& doc, const std::string& path) {
  static const std::vector<std::string> kCriteria = {"Subject_Aliasing",    "Compositionality_I",
                                                     "Compositionality_II", "Relation_Specificity",
                                                     "Forgetfulness",       "Logical_Generalization"};
  std::vector<RippleCase> out;
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const Record r(doc[i], path, "record " + std::to_string(i));
    const Record e(r.at("edit"), path, r.where() + ".edit");
    // RippleEdits' own records identify entities by Wikidata id only; editgate
    // needs the surface forms, which its fixture writes as subject/target/cloze.
    const auto subject = e.str("subject");
    const auto target = e.str("target");
    const auto cloze = e.str("cloze");
    std::string old_target;
    if (r.at("edit").contains("original_fact")) {
      old_target = Record(r.at("edit")["original_fact"], path, e.where() + ".original_fact").str("target", false);
    }
    cf.push_back(as_counterfact(std::to_string(i), cloze, subject, target, old_target));
  }
  const auto edits = editors::parse_counterfact_requests(cf, path);
  for (size_t i = 0; i < doc.size(); ++i) {
    const Record r(doc[i], path, "record " + std::to_string(i));
    RippleCase rc{edits[i], {}};
    for (const auto& criterion : kCriteria) {
      if (!doc[i].contains(criterion)) continue;
      const auto& tests = doc[i][criterion];
      if (!tests.is_array()) throw InputError(path, r.where() + "." + criterion, "a list", tests.type_name());
      for (size_t k = 0; k < tests.size(); ++k) {
        const Record t(tests[k], path, r.where() + "." + criterion + "[" + std::to_string(k) + "]");
        RippleTest test;
        test.criterion = criterion;
        test.tests = ripple_queries(t.at("test_queries"), t, "test_queries");
        if (tests[k].contains("condition_queries")) {
          test.conditions = ripple_queries(tests[k]["condition_queries"], t, "condition_queries");
        }
        test.condition_all = t.str("test_condition", false) == "AND";
        rc.tests.push_back(std::move(test));
      }
    }
    out.push_back(std::move(rc));
  }
  return out;
}

std::string detect_format(const json& doc, const std::string& path) {
  if (!doc.is_array() || doc.empty()) {
    throw InputError(path, "", "a non-empty JSON list of request records",
                     doc.is_array() ? "an empty list" : doc.type_name());
  }
  const json& first = doc[0];
  if (!first.is_object()) throw InputError(path, "record 0", "an object", first.type_name());
  if (first.contains("requested_rewrite")) return first["requested_rewrite"].is_array() ? "mquake" : "counterfact";
  if (first.contains("edit") && first.contains("Relation_Specificity")) return "rippleedits";
  if (first.contains("src") && first.contains("alt")) return "zsre";
  if (first.contains("prompt") && first.contains("target_new") && first.contains("subject")) return "easyedit";
  throw InputError(path, "record 0",
                   "a CounterFact, zsRE, MQuAKE, RippleEdits or EasyEdit record "
                   "(requested_rewrite / src+alt / edit+criteria / prompt+target_new+subject)",
                   "keys " + [&] {
                     std::string keys;
                     for (const auto& [k, v] : first.items()) keys += (keys.empty() ? "" : ",") + k;
                     return keys;
                   }());
}

}  // namespace

CaseSet load_requests(const fs::path& path) {
  const json doc = harness::read_json_file(path);
  CaseSet set;
  set.requests_path = path;
  set.format = detect_format(doc, path.string());
  if (set.format == "counterfact") set.edits = editors::parse_counterfact_requests(doc, path.string());
  if (set.format == "zsre") set.edits = load_zsre(doc, path.string());
  if (set.format == "easyedit") set.edits = load_easyedit(doc, path.string());
  if (set.format == "mquake") set.edits = load_mquake(doc, path.string());
  if (set.format == "rippleedits") {
    set.ripple = load_ripple(doc, path.string());
    for (const auto& rc : set.ripple) set.edits.push_back(rc.edit);
  }
  return set;
}

std::vector<PreservationFact> load_preservation(const fs::path& path) {
  const json doc = harness::read_json_file(path);
  const std::string p = path.string();
  if (!doc.is_object() || !doc.contains("facts") || !doc["facts"].is_array()) {
    throw InputError(p, "facts", "an object with a \"facts\" list", doc.type_name());
  }
  std::vector<PreservationFact> out;
  for (size_t i = 0; i < doc["facts"].size(); ++i) {
    const Record r(doc["facts"][i], p, "facts[" + std::to_string(i) + "]");
    PreservationFact f{r.str("prompt"), r.str("object"), r.str("relation", false), r.str("subject", false)};
    if (f.object.empty()) throw InputError(p, r.where() + ".object", "a non-empty string", "\"\"");
    out.push_back(std::move(f));
  }
  return out;
}

void load_cot(const fs::path& path, CaseSet& into) {
  const json doc = harness::read_json_file(path);
  const std::string p = path.string();
  if (!doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
    throw InputError(p, "items", "an object with an \"items\" list", doc.type_name());
  }
  const Record top(doc, p, "document");
  if (auto prefix = top.str("answer_prefix", false); !prefix.empty()) into.cot_answer_prefix = prefix;
  for (size_t i = 0; i < doc["items"].size(); ++i) {
    const Record r(doc["items"][i], p, "items[" + std::to_string(i) + "]");
    CotItem item{r.str("id"), r.str("question"), r.str("subject", false), r.strs("steps"), r.str("answer"), {}, {}};
    if (item.steps.empty()) throw InputError(p, r.where() + ".steps", "at least one step", "none");
    if (doc["items"][i].contains("mistake")) {
      const Record m(doc["items"][i]["mistake"], p, r.where() + ".mistake");
      item.mistake_steps = m.strs("steps");
      item.mistake_answer = m.str("answer");
    }
    into.cot.push_back(std::move(item));
  }
}

std::string sanitize_case_name(const std::string& raw) {
  std::string out;
  for (char c : raw) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out = "case_" + out;
  return out;
}

}  // namespace editgate::suites

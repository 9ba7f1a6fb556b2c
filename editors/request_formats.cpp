#include "editors/request_formats.h"

#include <nlohmann/json.hpp>

#include "editors/json_record.h"
#include "harness/input_error.h"
#include "harness/json_file.h"

namespace editgate::editors {
namespace {

using nlohmann::json;

// "{}" in place of the subject's first occurrence in a full question.
std::string cloze_of(const std::string& text, const std::string& subject, const JsonRecord& r, const char* field) {
  const auto pos = text.find(subject);
  if (subject.empty() || pos == std::string::npos) {
    throw InputError(r.path(), r.where() + "." + field, "a prompt containing the subject '" + subject + "'",
                     "'" + text + "'");
  }
  return text.substr(0, pos) + "{}" + text.substr(pos + subject.size());
}

// Every format is rewritten as CounterFact records, so one validator
// (parse_counterfact_requests) checks them all.
json as_counterfact(const std::string& id, const std::string& prompt, const std::string& subject,
                    const std::string& target_new, const std::string& target_true) {
  return json{{"case_id", id},
              {"requested_rewrite",
               {{"prompt", prompt}, {"subject", subject}, {"target_new", {{"str", target_new}}},
                {"target_true", {{"str", target_true}}}}}};
}

json zsre_as_counterfact(const json& doc, const std::string& path) {
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const JsonRecord r(doc[i], path, "record " + std::to_string(i));
    const auto subject = r.str("subject");
    const auto answers = r.strs("answers");
    json rec = as_counterfact(std::to_string(i), cloze_of(r.str("src"), subject, r, "src"), subject, r.str("alt"),
                              answers.empty() ? "" : answers.front());
    rec["paraphrase_prompts"] = r.strs("rephrase");
    cf.push_back(rec);
  }
  return cf;
}

json easyedit_as_counterfact(const json& doc, const std::string& path) {
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const JsonRecord r(doc[i], path, "record " + std::to_string(i));
    const auto subject = r.str("subject");
    json rec = as_counterfact(std::to_string(i), cloze_of(r.str("prompt"), subject, r, "prompt"), subject,
                              r.str("target_new"), r.str("ground_truth", false));
    rec["paraphrase_prompts"] = r.strs("rephrase_prompt");
    cf.push_back(rec);
  }
  return cf;
}

json mquake_as_counterfact(const json& doc, const std::string& path) {
  // Each requested rewrite of a multi-hop case is one edit; the multi-hop
  // questions themselves belong to the ripple/CoT suites.
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const JsonRecord r(doc[i], path, "record " + std::to_string(i));
    const auto& rewrites = r.at("requested_rewrite");
    if (!rewrites.is_array()) throw InputError(path, r.where() + ".requested_rewrite", "a list", rewrites.type_name());
    for (size_t k = 0; k < rewrites.size(); ++k) {
      cf.push_back({{"case_id", std::to_string(i) + "_" + std::to_string(k)}, {"requested_rewrite", rewrites[k]}});
    }
  }
  return cf;
}

json rippleedits_as_counterfact(const json& doc, const std::string& path) {
  json cf = json::array();
  for (size_t i = 0; i < doc.size(); ++i) {
    const JsonRecord r(doc[i], path, "record " + std::to_string(i));
    const JsonRecord e(r.at("edit"), path, r.where() + ".edit");
    // RippleEdits' own records identify entities by Wikidata id only; editgate
    // needs the surface forms, which its fixture writes as subject/target/cloze.
    std::string old_target;
    if (r.at("edit").contains("original_fact")) {
      old_target = JsonRecord(r.at("edit")["original_fact"], path, e.where() + ".original_fact").str("target", false);
    }
    cf.push_back(as_counterfact(std::to_string(i), e.str("cloze"), e.str("subject"), e.str("target"), old_target));
  }
  return cf;
}

}  // namespace

std::string detect_request_format(const json& doc, const std::string& path) {
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
  std::string keys;
  for (const auto& [k, v] : first.items()) keys += (keys.empty() ? "" : ",") + k;
  throw InputError(path, "record 0",
                   "a CounterFact, zsRE, MQuAKE, RippleEdits or EasyEdit record "
                   "(requested_rewrite / src+alt / edit+criteria / prompt+target_new+subject)",
                   "keys " + keys);
}

json request_records(const json& doc) { return doc.is_object() ? json::array({doc}) : doc; }

EditRequestSet parse_edit_requests(const json& document, const std::string& path) {
  const json doc = request_records(document);
  EditRequestSet set;
  set.format = detect_request_format(doc, path);
  if (set.format == "counterfact") {
    set.edits = parse_counterfact_requests(doc, path);
  } else if (set.format == "zsre") {
    set.edits = parse_counterfact_requests(zsre_as_counterfact(doc, path), path);
  } else if (set.format == "easyedit") {
    set.edits = parse_counterfact_requests(easyedit_as_counterfact(doc, path), path);
  } else if (set.format == "mquake") {
    set.edits = parse_counterfact_requests(mquake_as_counterfact(doc, path), path);
  } else {
    set.edits = parse_counterfact_requests(rippleedits_as_counterfact(doc, path), path);
  }
  return set;
}

EditRequestSet load_edit_requests(const std::filesystem::path& path) {
  return parse_edit_requests(harness::read_json_file(path), path.string());
}

std::vector<PreservationFact> load_preservation(const std::filesystem::path& path, bool prompts_only) {
  const json doc = harness::read_json_file(path);
  const std::string p = path.string();
  const bool facts_object = doc.is_object() && doc.contains("facts") && doc["facts"].is_array();
  if (!facts_object && !(prompts_only && doc.is_array())) {
    throw InputError(p, "facts", prompts_only ? "an object with a \"facts\" list, or a list of prompts"
                                              : "an object with a \"facts\" list",
                     doc.type_name());
  }
  const json& facts = facts_object ? doc["facts"] : doc;
  std::vector<PreservationFact> out;
  for (size_t i = 0; i < facts.size(); ++i) {
    if (prompts_only && facts[i].is_string()) {
      out.push_back({facts[i].get<std::string>(), "", "", ""});
      continue;
    }
    const JsonRecord r(facts[i], p, "facts[" + std::to_string(i) + "]");
    PreservationFact f{r.str("prompt"), r.str("object", !prompts_only), r.str("relation", false),
                       r.str("subject", false)};
    if (!prompts_only && f.object.empty()) throw InputError(p, r.where() + ".object", "a non-empty string", "\"\"");
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace editgate::editors

#include "suites/case_set.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "harness/input_error.h"
#include "editors/json_record.h"
#include "harness/json_file.h"

namespace editgate::suites {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

using Record = editors::JsonRecord;

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

// The RippleEdits tests of each record, beside its edit (`edits`, in record order).
std::vector<RippleCase> load_ripple(const json& doc, const std::string& path,
                                    const std::vector<editors::EditRequest>& edits) {
  static const std::vector<std::string> kCriteria = {"Subject_Aliasing",    "Compositionality_I",
                                                     "Compositionality_II", "Relation_Specificity",
                                                     "Forgetfulness",       "Logical_Generalization"};
  std::vector<RippleCase> out;
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

}  // namespace

CaseSet load_requests(const fs::path& path) {
  const json doc = editors::request_records(harness::read_json_file(path));
  auto requests = editors::parse_edit_requests(doc, path.string());
  CaseSet set;
  set.requests_path = path;
  set.format = requests.format;
  set.edits = std::move(requests.edits);
  if (set.format == "rippleedits") set.ripple = load_ripple(doc, path.string(), set.edits);
  return set;
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

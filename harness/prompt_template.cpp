#include "harness/prompt_template.h"

namespace editgate::harness {

nlohmann::json bos_eos_template(const std::optional<SpecialToken>& bos, const std::optional<SpecialToken>& eos) {
  using Json = nlohmann::json;
  if (!bos && !eos) return nullptr;
  auto special = [](const SpecialToken& t, int type_id) {
    return Json{{"SpecialToken", {{"id", t.first}, {"type_id", type_id}}}};
  };
  auto sequence = [](const char* id, int type_id) { return Json{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; };
  Json single = Json::array(), pair = Json::array(), specials = Json::object();
  for (int type_id : {0, 1}) {
    Json& out = type_id == 0 ? single : pair;
    if (type_id == 1) out = single;  // the pair template repeats the single one, then the second text
    if (bos) out.push_back(special(*bos, type_id));
    out.push_back(sequence(type_id == 0 ? "A" : "B", type_id));
    if (eos) out.push_back(special(*eos, type_id));
  }
  for (const auto& t : {bos, eos}) {
    if (t) specials[t->first] = {{"id", t->first}, {"ids", {t->second}}, {"tokens", {t->first}}};
  }
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

}  // namespace editgate::harness

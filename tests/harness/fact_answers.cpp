#include "tests/harness/fact_answers.h"

#include "harness/scoring.h"

namespace editgate::testing {

CounterFactPrompts counterfact_prompts(const nlohmann::json& records) {
  CounterFactPrompts out;
  for (const auto& r : records) {
    const auto& rw = r["requested_rewrite"];
    std::string prompt = rw["prompt"].get<std::string>();
    prompt.replace(prompt.find("{}"), 2, rw["subject"].get<std::string>());
    const auto object = rw["target_true"]["str"].get<std::string>();
    out.edits.prompts.push_back(prompt);
    out.edits.objects.push_back(object);
    for (const auto& n : r["neighborhood_prompts"]) {
      out.neighbours.prompts.push_back(n.get<std::string>());
      out.neighbours.objects.push_back(object);
    }
  }
  return out;
}

FactPrompts preservation_prompts(const nlohmann::json& file) {
  FactPrompts out;
  for (const auto& f : file["facts"]) {
    out.prompts.push_back(f["prompt"].get<std::string>());
    out.objects.push_back(f["object"].get<std::string>());
  }
  return out;
}

std::vector<Answer> first_token_answers(harness::TextModel& model, const FactPrompts& facts) {
  std::vector<harness::ScoreItem> items;
  for (size_t i = 0; i < facts.prompts.size(); ++i) {
    items.push_back({model.encode_prompt(facts.prompts[i]), model.encode_continuation(" " + facts.objects[i])});
  }
  const auto results = harness::score(model.model(), items, 32);
  std::vector<Answer> out;
  for (size_t i = 0; i < results.size(); ++i) {
    const int64_t top1 = results[i].argmax[0];
    out.push_back({top1 == items[i].continuation[0], model.decode({top1})});
  }
  return out;
}

}  // namespace editgate::testing

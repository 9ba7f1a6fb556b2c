#pragma once
// Whether a real model knows the facts of a committed fact file: the object's first
// token (of " " + object) is the top-1 next token after the prompt. Shared by the
// packaged-model tests (SmolLM2, Gemma 3), whose fact files were selected by that rule.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "harness/text_model.h"

namespace editgate::testing {

// Prompts and the object each should be answered with.
struct FactPrompts {
  std::vector<std::string> prompts;
  std::vector<std::string> objects;
};

// A CounterFact file's edit prompts (subject filled in) and, apart, their
// neighbourhood prompts, each with its record's target_true.
struct CounterFactPrompts {
  FactPrompts edits;
  FactPrompts neighbours;
};
CounterFactPrompts counterfact_prompts(const nlohmann::json& records);

// An editgate.preservation file's facts: each prompt with its object.
FactPrompts preservation_prompts(const nlohmann::json& file);

struct Answer {
  bool right = false;
  std::string top1;  // the model's top-1 next token, decoded: what it says instead when not right
};
std::vector<Answer> first_token_answers(harness::TextModel& model, const FactPrompts& facts);

}  // namespace editgate::testing

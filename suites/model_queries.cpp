#include "suites/model_queries.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "editors/edit_request.h"
#include "harness/generation.h"
#include "harness/scoring.h"

namespace editgate::suites {

std::vector<TargetScore> score_targets(harness::TextModel& model, const std::vector<std::string>& prompts,
                                       const std::vector<std::string>& targets, BaseResultsCache* cache) {
  TORCH_CHECK(prompts.size() == targets.size(), "score_targets: ", prompts.size(), " prompts, ", targets.size(),
              " targets");
  std::vector<harness::ScoreItem> items;
  items.reserve(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    items.push_back({model.encode_prompt(prompts[i]),
                     model.encode_continuation(editors::with_leading_space(targets[i]))});
  }
  std::vector<TargetScore> out;
  out.reserve(items.size());
  nlohmann::json question;
  if (cache != nullptr) {
    question = {{"q", "score_targets"}, {"items", nlohmann::json::array()}};
    for (const auto& it : items) question["items"].push_back({it.prompt, it.continuation});
    if (const auto* answer = cache->find(question)) {
      for (const auto& a : *answer) out.push_back({a.at(0).get<double>(), a.at(1).get<double>(), a.at(2).get<bool>()});
      return out;
    }
  }
  const auto results = harness::score(model.model(), items, 128);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    int64_t hits = 0;
    for (size_t k = 0; k < r.argmax.size(); ++k) hits += r.argmax[k] == items[i].continuation[k];
    const auto n = static_cast<int64_t>(r.argmax.size());
    out.push_back({r.mean_nll(), static_cast<double>(hits) / static_cast<double>(n), hits == n});
  }
  if (cache != nullptr) {
    nlohmann::json answer = nlohmann::json::array();
    for (const auto& t : out) answer.push_back({t.mean_nll, t.token_accuracy, t.top1});
    cache->store(question, std::move(answer));
  }
  return out;
}

std::vector<int64_t> top1_next(harness::TextModel& model, const std::vector<std::string>& prompts,
                               BaseResultsCache* cache) {
  std::vector<std::vector<int64_t>> ids;
  ids.reserve(prompts.size());
  for (const auto& p : prompts) ids.push_back(model.encode_prompt(p));
  const nlohmann::json question = cache != nullptr ? nlohmann::json{{"q", "top1_next"}, {"prompts", ids}} : nlohmann::json();
  if (cache != nullptr) {
    if (const auto* answer = cache->find(question)) return answer->get<std::vector<int64_t>>();
  }
  const auto top = harness::next_token_logprobs(model.model(), ids, 128).argmax(1).contiguous();
  std::vector<int64_t> out(top.data_ptr<int64_t>(), top.data_ptr<int64_t>() + top.numel());
  if (cache != nullptr) cache->store(question, out);
  return out;
}

std::vector<std::vector<int64_t>> generate_ids(harness::TextModel& model, const std::vector<std::vector<int64_t>>& prompts,
                                               int64_t max_new_tokens, BaseResultsCache* cache) {
  const nlohmann::json question = cache != nullptr ? nlohmann::json{{"q", "generate_ids"}, {"prompts", prompts},
                                                                    {"max_new_tokens", max_new_tokens}}
                                                   : nlohmann::json();
  if (cache != nullptr) {
    if (const auto* answer = cache->find(question)) return answer->get<std::vector<std::vector<int64_t>>>();
  }
  std::vector<std::vector<int64_t>> out;
  constexpr size_t kChunk = 64;
  harness::GenerateOptions opts;
  opts.max_new_tokens = max_new_tokens;
  for (size_t start = 0; start < prompts.size(); start += kChunk) {
    const std::vector<std::vector<int64_t>> chunk(prompts.begin() + static_cast<std::ptrdiff_t>(start),
                                                  prompts.begin() + static_cast<std::ptrdiff_t>(std::min(prompts.size(), start + kChunk)));
    for (auto& gen : harness::generate_greedy(model.model(), chunk, opts)) out.push_back(std::move(gen));
  }
  if (cache != nullptr) cache->store(question, out);
  return out;
}

std::vector<std::string> generate_text(harness::TextModel& model, const std::vector<std::string>& prompts,
                                       int64_t max_new_tokens, BaseResultsCache* cache) {
  std::vector<std::vector<int64_t>> ids;
  ids.reserve(prompts.size());
  for (const auto& p : prompts) ids.push_back(model.encode_prompt(p));
  std::vector<std::string> out;
  for (const auto& gen : generate_ids(model, ids, max_new_tokens, cache)) out.push_back(model.decode(gen));
  return out;
}

bool starts_with_answer(const std::string& generated, const std::vector<std::string>& answers) {
  const auto first = generated.find_first_not_of(" \t\n");
  if (first == std::string::npos) return false;
  const std::string_view text(generated.data() + first, generated.size() - first);
  for (const auto& a : answers) {
    if (a.empty() || !text.starts_with(a)) continue;
    // A whole-word match: "Paris" must not pass on "Parisian".
    if (text.size() == a.size() || !std::isalnum(static_cast<unsigned char>(text[a.size()]))) return true;
  }
  return false;
}

}  // namespace editgate::suites

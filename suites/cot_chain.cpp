#include "suites/cot_chain.h"

#include <algorithm>

namespace editgate::suites {
namespace {

std::string decode_span(const harness::Tokenizer& tokenizer, const std::vector<int64_t>& ids, size_t begin, size_t end) {
  return tokenizer.decode(std::vector<int64_t>(ids.begin() + static_cast<std::ptrdiff_t>(begin),
                                               ids.begin() + static_cast<std::ptrdiff_t>(end)));
}

bool ends_step(const std::string& token_text) {
  const auto last = token_text.find_last_not_of(" \t\n");
  return last != std::string::npos && token_text[last] == '.';
}

}  // namespace

GeneratedChain cut_chain(const harness::Tokenizer& tokenizer, const std::vector<int64_t>& generated,
                         const std::string& answer_prefix) {
  GeneratedChain chain;
  // The prefix ends at the first token whose text completes it and starts at the
  // last token from which the text still holds it.
  size_t end = 0;
  for (size_t k = 1; k <= generated.size() && end == 0; ++k) {
    if (decode_span(tokenizer, generated, 0, k).find(answer_prefix) != std::string::npos) end = k;
  }
  if (end == 0 || answer_prefix.empty()) return chain;
  size_t begin = end - 1;  // stops at 0 at the latest, whose text holds the prefix
  while (decode_span(tokenizer, generated, begin, end).find(answer_prefix) == std::string::npos) --begin;
  chain.answer_prefix.assign(generated.begin() + static_cast<std::ptrdiff_t>(begin),
                             generated.begin() + static_cast<std::ptrdiff_t>(end));
  std::vector<int64_t> step;
  for (size_t i = 0; i < begin; ++i) {
    step.push_back(generated[i]);
    if (ends_step(tokenizer.decode({generated[i]}))) {
      chain.steps.push_back(std::move(step));
      step.clear();
    }
  }
  if (!step.empty()) chain.steps.push_back(std::move(step));
  chain.answer = first_word(decode_span(tokenizer, generated, end, generated.size()));
  for (size_t m = 1; end + m <= generated.size() && !chain.answer.empty(); ++m) {
    if (first_word(decode_span(tokenizer, generated, end, end + m)) == chain.answer) {
      chain.answer_tokens = static_cast<int64_t>(m);
      break;
    }
  }
  return chain;
}

std::vector<int64_t> truncated_prompt(const std::vector<int64_t>& question, const GeneratedChain& chain, size_t keep) {
  std::vector<int64_t> ids = question;
  for (size_t k = 0; k < std::min(keep, chain.steps.size()); ++k) ids.insert(ids.end(), chain.steps[k].begin(), chain.steps[k].end());
  ids.insert(ids.end(), chain.answer_prefix.begin(), chain.answer_prefix.end());
  return ids;
}

std::string first_word(const std::string& text) {
  const auto b = text.find_first_not_of(' ');
  if (b == std::string::npos) return {};
  const auto e = text.find_first_of(" .", b);
  return text.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

bool moved_alike(const AnswerChange& cot, const AnswerChange& direct) {
  if (cot.moved() != direct.moved()) return false;
  return !cot.moved() || cot.edited == direct.edited;
}

}  // namespace editgate::suites

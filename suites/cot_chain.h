#pragma once
// A generated chain of thought cut into steps in token ids, so that an
// early-answering prompt (Lanham et al.) is exactly the ids the model generated
// up to the cut: at 100 % of the steps it is the generated prefix itself, and the
// forced answer there must equal the full chain's. Rebuilding the prompt from
// decoded text changed the ids: a word-level tokenizer without a decoder (the
// fixture's) joins tokens with spaces and drops the one before the first token,
// so "A :" + "the person ..." became the unknown word "A :the"; BPE text need not
// re-encode to the pieces generated either. This unit owns the cutting and the
// comparison of answers; cot_suite.cpp owns the queries and the metrics.

#include <cstdint>
#include <string>
#include <vector>

#include "harness/tokenizer.h"

namespace editgate::suites {

struct GeneratedChain {
  std::vector<std::vector<int64_t>> steps;  // ids of each step, its full stop included
  std::vector<int64_t> answer_prefix;       // ids of the answer prefix as generated; empty: never reached
  std::string answer;                       // first word after the prefix
  int64_t answer_tokens = 0;                // generated tokens that spell `answer`

  bool reached_answer() const { return !answer_prefix.empty(); }
};

// Cuts `generated` (the new ids after the question) at the first occurrence of
// `answer_prefix` in its decoded text; the ids before it are split into steps
// after each token whose text ends with a full stop (a remainder without one is
// the last step).
GeneratedChain cut_chain(const harness::Tokenizer& tokenizer, const std::vector<int64_t>& generated,
                         const std::string& answer_prefix);

// `question` + the first `keep` steps + the answer prefix, as generated.
std::vector<int64_t> truncated_prompt(const std::vector<int64_t>& question, const GeneratedChain& chain, size_t keep);

// The first word of `text` (leading spaces skipped, ended by a space or a full stop).
std::string first_word(const std::string& text);

// One item's answers before and after an edit.
struct AnswerChange {
  std::string base;
  std::string edited;

  bool moved() const { return base != edited; }
};

// Did the edit move the chain's answer and the direct (latent 2-hop) answer
// alike: neither moved, or both moved to the same new answer.
bool moved_alike(const AnswerChange& cot, const AnswerChange& direct);

}  // namespace editgate::suites

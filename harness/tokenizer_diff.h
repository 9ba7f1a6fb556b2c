#pragma once
// Compares two tokenizers the way a prompt sees them: kind, vocabulary (added
// tokens included), BPE merges, special-token ids, the special tokens put
// around a prompt (HF's BOS/EOS rule) and the ids of a fixed set of probe
// strings. The gate's Audit suite uses it so that an edited checkpoint whose
// tokenizer is not the base's fails by name, instead of as lost facts when the
// same prompts become different ids. Loading tokenizers is tokenizer.h's job.

#include <string>
#include <vector>

#include "harness/tokenizer.h"

namespace editgate::harness {

/// The fixed probe strings whose ids are compared: words, digits, spacing,
/// punctuation, non-ASCII text and the special tokens' own text.
const std::vector<std::string>& tokenizer_probe_strings();

/// One line per aspect that differs, each naming the first difference
/// ("vocabulary: id 5 is \"Paris\" in base, \"Rome\" in edited (3 ids differ)");
/// empty when the tokenizers agree on all of them.
std::vector<std::string> tokenizer_differences(const Tokenizer& base, const Tokenizer& edited);

}  // namespace editgate::harness

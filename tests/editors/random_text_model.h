#pragma once
// A random-weight text model for the in-model erasure tests (the trained
// fixture model is not needed to test the plumbing): a tiny GPT-2 or Llama
// checkpoint (tests/harness/tiny_checkpoint.h) plus a word-level tokenizer.json
// over a small invented vocabulary, and concept datasets over that vocabulary
// in the format of editors/concept_dataset.h.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace editgate::testing {

/// The tokenizer's words, "<bos>" first (id 0) and "<unk>" appended.
const std::vector<std::string>& random_model_words();

/// Writes config.json, model.safetensors and tokenizer.json into `dir`;
/// model_type "gpt2" (no BOS) or "llama" (BOS prepended).
void write_random_text_model(const std::filesystem::path& dir, const std::string& model_type, uint64_t seed = 0);

/// A concept dataset: subjects are two-syllable names, the label a function of
/// the first syllable (k classes), `contexts` prompts per subject that differ
/// in the words before the subject, subjects split 40/30/30 by subject id.
/// Each record carries subject_span, subject_id, relation and object.
nlohmann::json make_concept_dataset(int64_t k, int64_t contexts = 3);

}  // namespace editgate::testing

#pragma once
// The tokenizer.json post_processor editgate writes so that a tokenizer it
// generates (the fixture's, a GGUF file's) adds BOS/EOS in every consumer the
// way transformers' TokenizersBackend.update_post_processor would build it
// ("bos $A eos", pair "bos $A eos bos:1 $B:1 eos:1"), as Llama 3's
// tokenizer.json carries it. Reading post_processors is tokenizer_loader.cpp's job.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace editgate::harness {

/// A special token by text and id.
using SpecialToken = std::pair<std::string, int64_t>;

/// TemplateProcessing JSON with `bos` before and `eos` after the text; null
/// when both are absent (HF's "no post_processor").
nlohmann::json bos_eos_template(const std::optional<SpecialToken>& bos, const std::optional<SpecialToken>& eos);

}  // namespace editgate::harness

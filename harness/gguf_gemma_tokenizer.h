#pragma once
// Gemma's SentencePiece vocabulary as a GGUF file stores it (tokenizer.ggml.model
// "llama": tokens, scores, token types, no merges), turned into the
// tokenizer.json transformers builds from the same file (GemmaTokenizer: "▁"
// for spaces, byte fallback, BPE). The merges are recovered from the
// vocabulary: every split of a token into two tokens is a merge, ranked by the
// token's place in the file (earlier first) and, within a token, longer left
// pieces first. Gemma's scores do not follow its merge order; the file order does.

#include <nlohmann/json.hpp>

#include "harness/gguf_reader.h"

namespace editgate::harness {

// tokenizer.json without post_processor (GgufCheckpoint adds the BOS/EOS rule).
// InputError naming the key for missing arrays, a token given twice, or
// token types that do not match the tokens one for one.
nlohmann::json gemma_tokenizer_json(const GgufFile& f);

}  // namespace editgate::harness

#pragma once
// TextModel: a loaded checkpoint together with its tokenizer and the rule for
// turning prompt text into ids (whether a BOS token goes first). Suites, editors
// and the CLI all encode prompts through it, so they agree on the ids.

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "harness/checkpoint.h"
#include "harness/tokenizer.h"

namespace editgate::harness {

class TextModel {
 public:
  // `dir`: a HF checkpoint directory, or a GGUF file (gguf_model.h).
  static TextModel load(const std::filesystem::path& dir, const LoadOptions& options = {});

  Transformer& model() { return *loaded_.model; }
  const Transformer& model() const { return *loaded_.model; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const LoadedModel& loaded() const { return loaded_; }
  const std::filesystem::path& dir() const { return loaded_.dir; }
  bool adds_bos() const { return add_bos_; }

  // Ids of a prompt: BOS first when the model was trained that way.
  std::vector<int64_t> encode_prompt(std::string_view text) const;
  // Ids of a continuation (no BOS). CounterFact targets carry their leading space.
  std::vector<int64_t> encode_continuation(std::string_view text) const;
  std::string decode(const std::vector<int64_t>& ids) const { return tokenizer_->decode(ids); }

 private:
  LoadedModel loaded_;
  std::unique_ptr<Tokenizer> tokenizer_;
  bool add_bos_ = false;  // tokenizer_config.json add_bos_token, else true for the Llama family
};

}  // namespace editgate::harness

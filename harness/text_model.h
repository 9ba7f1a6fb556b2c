#pragma once
// TextModel: a loaded checkpoint together with its tokenizer and the rule for
// turning prompt text into ids (whether a BOS token goes first). Suites, editors
// and the CLI all encode prompts through it, so they agree on the ids.
// A checkpoint whose edit_manifest.json names an "adapter" (a GRACE codebook,
// codebook_adapter.h, or a steering vector, steering_adapter.h) is loaded with
// the adapter installed, so every suite and gate sees the edited behaviour as
// it would a weight edit.

#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "harness/checkpoint.h"
#include "harness/tokenizer.h"

namespace editgate::harness {

struct Codebook;        // codebook_adapter.h
class CodebookAdapter;  // codebook_adapter.h
struct SteeringVector;  // steering_adapter.h
class SteeringAdapter;  // steering_adapter.h

class TextModel {
 public:
  // `dir`: a HF checkpoint directory, or a GGUF file (gguf_model.h).
  static TextModel load(const std::filesystem::path& dir, const LoadOptions& options = {});
  // A model built in memory (the benchmarks' random-weight shapes, too large to
  // write and read back per run): no checkpoint directory (dir() is empty,
  // weights_sha256 unset), no adapter; special tokens by the
  // tokenizer's prompt_specials() as for a checkpoint.
  static TextModel from_memory(std::unique_ptr<Transformer> model, std::unique_ptr<Tokenizer> tokenizer);
  TextModel(TextModel&&) noexcept;
  TextModel& operator=(TextModel&&) noexcept;
  ~TextModel();

  Transformer& model() { return *loaded_.model; }
  const Transformer& model() const { return *loaded_.model; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const LoadedModel& loaded() const { return loaded_; }
  const std::filesystem::path& dir() const { return loaded_.dir; }
  // Whether prompts start with special tokens (BOS), by HF's rule (Tokenizer::prompt_specials).
  bool adds_bos() const;

  // Ids of a prompt as HF's tokenizer(text) gives them: BOS first when the
  // tokenizer's rule says so. Specials a template appends after the text (an
  // EOS) are left out: a continuation follows the prompt (encode_continuation),
  // and no causal LM editgate runs has them; Tokenizer::prompt_specials shows them.
  std::vector<int64_t> encode_prompt(std::string_view text) const;
  // Ids of a continuation (no BOS). CounterFact targets carry their leading space.
  std::vector<int64_t> encode_continuation(std::string_view text) const;
  std::string decode(const std::vector<int64_t>& ids) const { return tokenizer_->decode(ids); }

  // The installed codebook adapter's codebook, or nullptr when there is none.
  const Codebook* codebook() const;
  // Installs `codebook` in place of the current one (an empty one removes it).
  void install_codebook(Codebook codebook);
  // The installed steering vector, or nullptr.
  const SteeringVector* steering() const;
  // Installs `steering` in place of the current one; nullptr removes it.
  void install_steering(const SteeringVector* steering);

 private:
  TextModel() = default;
  LoadedModel loaded_;
  std::unique_ptr<Tokenizer> tokenizer_;
  // After loaded_, so it is destroyed (its hooks removed) before the model.
  std::unique_ptr<CodebookAdapter> adapter_;
  std::unique_ptr<SteeringAdapter> steering_;
};

}  // namespace editgate::harness

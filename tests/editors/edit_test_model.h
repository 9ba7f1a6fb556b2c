#pragma once
// Shared set-up of the weight-editor tests: a random-weight text model (tiny
// GPT-2 or Llama with the word-level tokenizer of random_text_model.h), edit
// requests over its vocabulary, and small helpers. The trained fixture model
// is not needed to test the algebra (rank, minimum norm, W'k = v*).

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "editors/edit_request.h"
#include "harness/text_model.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {

// A random text model written under a TempDir and loaded (device from EDITGATE_DEVICE).
struct EditTestModel {
  explicit EditTestModel(const std::string& model_type = "gpt2", uint64_t seed = 0);
  TempDir dir;
  std::filesystem::path ckpt;  // dir/ckpt
  std::unique_ptr<harness::TextModel> tm;
  harness::TextModel& model() { return *tm; }
  void reload();  // fresh weights from disk (undoes edits)
};

// Requests over random_model_words(): "{} was born in the" etc.
std::vector<editors::EditRequest> test_requests(int n);

// Sentences over the same words, as a corpus.
std::vector<std::string> test_corpus_documents(int n, uint64_t seed = 0);

}  // namespace editgate::testing

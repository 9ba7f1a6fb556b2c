#include "tests/editors/edit_test_model.h"

#include <random>

#include "tests/editors/random_text_model.h"

namespace editgate::testing {

EditTestModel::EditTestModel(const std::string& model_type, uint64_t seed) : ckpt(dir / "ckpt") {
  write_random_text_model(ckpt, model_type, seed);
  reload();
}

void EditTestModel::reload() { tm = std::make_unique<harness::TextModel>(harness::TextModel::load(ckpt)); }

std::vector<editors::EditRequest> test_requests(int n) {
  const std::vector<std::string> syl = {"ka", "lo", "mi", "ra", "te", "su", "no", "vi"};
  const std::vector<std::string> obj = {"north", "south", "east", "west"};
  const std::vector<std::string> prompts = {"{} was born in the", "{} lives in the", "people say {} was born in the"};
  std::vector<editors::EditRequest> out;
  for (int i = 0; i < n; ++i) {
    editors::EditRequest r;
    r.case_id = std::to_string(i);
    r.subject = syl[static_cast<size_t>(i) % 8] + " " + syl[static_cast<size_t>(i / 8 + 3) % 8];
    r.prompt = prompts[static_cast<size_t>(i) % prompts.size()];
    r.target_new = obj[static_cast<size_t>(i) % 4];
    r.target_true = obj[static_cast<size_t>(i + 1) % 4];
    out.push_back(r);
  }
  return out;
}

std::vector<std::string> test_corpus_documents(int n, uint64_t seed) {
  const auto& words = random_model_words();
  std::mt19937_64 rng(seed);
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) {
    std::string d;
    const int len = 3 + static_cast<int>(rng() % 12);
    for (int w = 0; w < len; ++w) {
      // Skip "<bos>" (index 0).
      d += (w ? " " : "") + words[1 + rng() % (words.size() - 1)];
    }
    docs.push_back(d);
  }
  return docs;
}

}  // namespace editgate::testing

#include "tests/editors/random_text_model.h"

#include <algorithm>
#include <fstream>

#include "harness/wordlevel_tokenizer.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

const std::vector<std::string> kSyllables = {"ka", "lo", "mi", "ra", "te", "su", "no", "vi"};
const std::vector<std::string> kPrefixes = {"we know that", "people say", "it is true that", "as a rule"};
const std::vector<std::string> kObjects = {"north", "south", "east", "west"};

}  // namespace

const std::vector<std::string>& random_model_words() {
  static const std::vector<std::string> words = [] {
    std::vector<std::string> w = {"<bos>", "was", "born", "in", "the", "lives"};
    for (const auto& p : kPrefixes) {
      size_t start = 0;
      while (start < p.size()) {
        const size_t end = p.find(' ', start);
        const std::string word = p.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (std::find(w.begin(), w.end(), word) == w.end()) w.push_back(word);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    }
    w.insert(w.end(), kSyllables.begin(), kSyllables.end());
    w.insert(w.end(), kObjects.begin(), kObjects.end());
    return w;
  }();
  return words;
}

void write_random_text_model(const std::filesystem::path& dir, const std::string& model_type, uint64_t seed) {
  TinySpec spec;
  spec.model_type = model_type;
  spec.seed = seed;
  write_tiny_checkpoint(dir, spec);
  // Llama: <bos> before every prompt, in the tokenizer's post_processor as Llama 3 has it.
  std::ofstream(dir / "tokenizer.json") << harness::wordlevel_tokenizer_json(random_model_words(), "<unk>", {"<bos>"},
                                                                             model_type == "gpt2" ? "" : "<bos>");
}

nlohmann::json make_concept_dataset(int64_t k, int64_t contexts) {
  nlohmann::json splits = {{"fit", nlohmann::json::array()},
                           {"probe_train", nlohmann::json::array()},
                           {"probe_test", nlohmann::json::array()}};
  int64_t subject = 0;
  for (size_t a = 0; a < kSyllables.size(); ++a) {
    for (size_t b = 0; b < kSyllables.size(); ++b, ++subject) {
      const std::string name = kSyllables[a] + " " + kSyllables[b];
      const int64_t label = static_cast<int64_t>(a) % k;
      const char* split = subject % 10 < 4 ? "fit" : (subject % 10 < 7 ? "probe_train" : "probe_test");
      for (int64_t c = 0; c < contexts; ++c) {
        const std::string& prefix = kPrefixes[static_cast<size_t>((subject + c) % 4)];
        const int64_t start = prefix == "people say" ? 2 : (prefix == "as a rule" ? 3 : (prefix == "we know that" ? 3 : 4));
        splits[split].push_back({{"subject_id", "person_" + std::to_string(subject)},
                                 {"subject", name},
                                 {"prompt", prefix + " " + name + " was born in the"},
                                 {"subject_span", {start, start + 2}},
                                 {"label", label},
                                 {"relation", "born_in"},
                                 {"object", kObjects[static_cast<size_t>(label) % kObjects.size()]}});
      }
    }
  }
  nlohmann::json classes = nlohmann::json::array();
  for (int64_t c = 0; c < k; ++c) classes.push_back("class_" + std::to_string(c));
  return {{"format", "editgate.erasure_dataset"}, {"version", 1},   {"concept", "synthetic"},
          {"classes", classes},                   {"splits", splits}};
}

}  // namespace editgate::testing

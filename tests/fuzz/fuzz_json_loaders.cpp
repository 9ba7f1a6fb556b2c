// Every torch-free JSON (and text) loader on the same bytes: gate spec,
// config.json, requests in every format (both loaders), preservation and CoT
// files, GPT-2 vocab.json and merges.txt, SentencePiece model. Bad input must
// end in InputError; any other exception, crash or sanitizer report is a finding.

#include <cstddef>
#include <cstdint>

#include "editors/edit_request.h"
#include "harness/gates.h"
#include "harness/input_error.h"
#include "harness/model_config.h"
#include "harness/tokenizer.h"
#include "suites/case_set.h"
#include "tests/fuzz/fuzz_file.h"

namespace {

template <typename F>
void expect_input_error_or_success(F&& f) {
  try {
    f();
  } catch (const editgate::InputError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace editgate;
  const auto file = fuzz::write_input("input.json", data, size);
  const auto config = fuzz::write_input("config.json", data, size);
  expect_input_error_or_success([&] { harness::GateSpec::load(file); });
  expect_input_error_or_success([&] { harness::ModelConfig::load(config.parent_path()); });
  expect_input_error_or_success([&] { suites::load_requests(file); });
  expect_input_error_or_success([&] { editors::load_counterfact_requests(file); });
  expect_input_error_or_success([&] { suites::load_preservation(file); });
  expect_input_error_or_success([&] {
    suites::CaseSet into;
    suites::load_cot(file, into);
  });
  // vocab.json and merges.txt, each against a valid partner.
  static const auto vocab = [] {
    const std::string v = R"({"a": 0, "b": 1, "ab": 2, "\u0120": 3})";
    return fuzz::write_input("vocab_ok.json", reinterpret_cast<const uint8_t*>(v.data()), v.size());
  }();
  static const auto merges = [] {
    const std::string m = "#version: 0.2\na b\n";
    return fuzz::write_input("merges_ok.txt", reinterpret_cast<const uint8_t*>(m.data()), m.size());
  }();
  expect_input_error_or_success([&] { harness::load_gpt2_vocab_merges(file, merges)->encode("ab ba"); });
  expect_input_error_or_success([&] { harness::load_gpt2_vocab_merges(vocab, file)->encode("ab ba"); });
  expect_input_error_or_success([&] { harness::load_sentencepiece(file); });
  return 0;
}

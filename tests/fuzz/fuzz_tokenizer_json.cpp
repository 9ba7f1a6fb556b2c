// tokenizer.json loading (BPE, WordLevel; normalizers, pre-tokenizers,
// decoders, added tokens), then encoding and decoding with whatever loaded.
// Bad input must end in InputError; anything else is a finding.

#include <cstddef>
#include <cstdint>

#include "harness/input_error.h"
#include "harness/tokenizer.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace editgate;
  const auto file = fuzz::write_input("tokenizer.json", data, size);
  std::unique_ptr<harness::Tokenizer> tok;
  try {
    tok = harness::load_tokenizer_json(file);
  } catch (const InputError&) {
    return 0;
  }
  for (const char* text : {"tol na lis has a home in", " Hello,  world!\n", "\xc3\xa9t\xc3\xa9 \xff\xfe <bos>", ""}) {
    const auto ids = tok->encode(text);
    (void)tok->decode(ids);
  }
  (void)tok->decode({0, 1, 2, -1, int64_t{1} << 40});
  return 0;
}

// Encoders on arbitrary text (invalid UTF-8 included): the fixture's WordLevel
// tokenizer.json and a byte-level BPE (GPT-2 style vocab.json + merges.txt over
// the 256 byte symbols). Byte-level BPE must round-trip every input exactly.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/tokenizer.h"
#include "tests/fuzz/fuzz_file.h"

namespace {

using editgate::harness::Tokenizer;

// GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to 256+n.
std::string byte_symbol(int b, int& next) {
  const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const int cp = printable ? b : 256 + next++;
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::unique_ptr<Tokenizer> byte_level_bpe() {
  std::string vocab = "{";
  int next = 0;
  for (int b = 0; b < 256; ++b) {
    std::string sym = byte_symbol(b, next);
    if (sym == "\"" || sym == "\\") sym = "\\" + sym;
    vocab += (b ? ", \"" : "\"") + sym + "\": " + std::to_string(b);
  }
  vocab += R"(, "th": 256, "the": 257, "\u0120t": 258, "\u0120th": 259, "\u0120the": 260})";
  const std::string merges = "#version: 0.2\nt h\nth e\n\xc4\xa0 t\n\xc4\xa0t h\n\xc4\xa0th e\n";
  using editgate::fuzz::write_input;
  return editgate::harness::load_gpt2_vocab_merges(
      write_input("bpe_vocab.json", reinterpret_cast<const uint8_t*>(vocab.data()), vocab.size()),
      write_input("bpe_merges.txt", reinterpret_cast<const uint8_t*>(merges.data()), merges.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto wordlevel = editgate::harness::load_tokenizer_json(EDITGATE_FIXTURE_DIR "/tokenizer.json");
  static const auto bpe = byte_level_bpe();
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)wordlevel->decode(wordlevel->encode(text));
  if (bpe->decode(bpe->encode(text)) != text) std::abort();  // byte-level BPE is lossless
  return 0;
}

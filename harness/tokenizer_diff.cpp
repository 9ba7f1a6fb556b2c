#include "harness/tokenizer_diff.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>

namespace editgate::harness {
namespace {

// Printable form of a token or text for a one-line message.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s.substr(0, 60)) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '"' || c == '\\') out += std::string("\\") + static_cast<char>(c);
    else if (c < 0x20) out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
    else out += static_cast<char>(c);
  }
  return out + (s.size() > 60 ? "...\"" : "\"");
}

std::string ids_text(const std::vector<int64_t>& ids) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? ", " : "") << ids[i];
  out << "]";
  return out.str();
}

std::string id_text(const std::optional<int64_t>& id) { return id ? std::to_string(*id) : "none"; }

void compare_vocabulary(const Tokenizer& a, const Tokenizer& b, std::vector<std::string>& out) {
  if (a.vocab_size() != b.vocab_size()) {
    out.push_back("vocabulary size " + std::to_string(a.vocab_size()) + " in base, " +
                  std::to_string(b.vocab_size()) + " in edited");
  }
  const int64_t n = std::max(a.vocab_size(), b.vocab_size());
  int64_t differing = 0, first = -1;
  for (int64_t id = 0; id < n; ++id) {
    if (a.id_to_token(id) != b.id_to_token(id)) {
      if (first < 0) first = id;
      ++differing;
    }
  }
  if (first >= 0) {
    out.push_back("vocabulary: id " + std::to_string(first) + " is " + quoted(a.id_to_token(first)) + " in base, " +
                  quoted(b.id_to_token(first)) + " in edited (" + std::to_string(differing) + " ids differ)");
  }
}

void compare_merges(const Tokenizer& a, const Tokenizer& b, std::vector<std::string>& out) {
  auto as_text = [](const Tokenizer& t) {
    std::vector<std::string> merges;
    for (const auto& [l, r] : t.merge_ids()) merges.push_back(t.id_to_token(l) + " " + t.id_to_token(r));
    return merges;
  };
  const auto ma = as_text(a), mb = as_text(b);
  if (ma == mb) return;
  size_t i = 0;
  while (i < ma.size() && i < mb.size() && ma[i] == mb[i]) ++i;
  out.push_back("merges: " + std::to_string(ma.size()) + " in base, " + std::to_string(mb.size()) +
                " in edited; rank " + std::to_string(i) + " is " + (i < ma.size() ? quoted(ma[i]) : "none") +
                " in base, " + (i < mb.size() ? quoted(mb[i]) : "none") + " in edited");
}

}  // namespace

const std::vector<std::string>& tokenizer_probe_strings() {
  static const std::vector<std::string> kProbes = {
      "The capital of France is Paris .",
      "Hello world, this is a test!",
      " leading and trailing spaces ",
      "a  b\tc\nd",
      "In 2024 there were 1234567 people; pi is 3.14159.",
      "I'm sure you'll see they've done it.",
      "Ça va? Grüße aus Köln. 日本語 😀",
      "<s> </s> <bos> <eos> <unk> <pad> <|endoftext|> <|begin_of_text|>",
  };
  return kProbes;
}

std::vector<std::string> tokenizer_differences(const Tokenizer& base, const Tokenizer& edited) {
  std::vector<std::string> out;
  if (base.kind() != edited.kind()) out.push_back("kind " + base.kind() + " in base, " + edited.kind() + " in edited");
  compare_vocabulary(base, edited, out);
  compare_merges(base, edited, out);
  const SpecialTokens& sa = base.special_tokens();
  const SpecialTokens& sb = edited.special_tokens();
  for (const auto& [name, member] : {std::pair{"bos", &SpecialTokens::bos}, std::pair{"eos", &SpecialTokens::eos},
                                     std::pair{"pad", &SpecialTokens::pad}, std::pair{"unk", &SpecialTokens::unk}}) {
    if (sa.*member != sb.*member) {
      out.push_back(std::string(name) + " token " + id_text(sa.*member) + " in base, " + id_text(sb.*member) +
                    " in edited");
    }
  }
  const PromptSpecials& pa = base.prompt_specials();
  const PromptSpecials& pb = edited.prompt_specials();
  if (!(pa == pb)) {
    out.push_back("BOS/EOS rule: a prompt gets " + ids_text(pa.before) + " before and " + ids_text(pa.after) +
                  " after in base (" + pa.rule + "), " + ids_text(pb.before) + " before and " + ids_text(pb.after) +
                  " after in edited (" + pb.rule + ")");
  }
  // Different ids for the same text, whatever the cause (normalizer,
  // pre-tokenizer, added tokens). Unknown words are not an error here: the
  // probes are not in every vocabulary, and a tokenizer without unk throws.
  auto encode = [](const Tokenizer& t, const std::string& s) -> std::optional<std::vector<int64_t>> {
    try {
      return t.encode(s);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  for (const auto& probe : tokenizer_probe_strings()) {
    const auto ia = encode(base, probe), ib = encode(edited, probe);
    if (ia != ib) {
      out.push_back("probe " + quoted(probe) + " is " + (ia ? ids_text(*ia) : "an error") + " in base, " +
                    (ib ? ids_text(*ib) : "an error") + " in edited");
      break;  // the first one names it; the rest usually repeat it
    }
  }
  return out;
}

}  // namespace editgate::harness

#include "harness/tokenizer_pipeline.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <stdexcept>

#include "harness/input_error.h"

namespace editgate::harness {
namespace {

std::string utf8_encode(char32_t c) {
  std::string s;
  if (c < 0x80) {
    s += static_cast<char>(c);
  } else if (c < 0x800) {
    s += static_cast<char>(0xC0 | (c >> 6));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += static_cast<char>(0xE0 | (c >> 12));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (c >> 18));
    s += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (c & 0x3F));
  }
  return s;
}

// Decodes the character at s[i] and advances i; an invalid sequence yields
// nullopt and advances one byte.
std::optional<char32_t> utf8_next(std::string_view s, size_t& i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  const int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return ++i, std::nullopt;
  char32_t c = len == 1 ? b0 : (b0 & (0x7F >> len));
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return ++i, std::nullopt;
    c = (c << 6) | (b & 0x3F);
  }
  i += len;
  return c;
}

// HF's regexes run on Oniguruma, whose Unicode \s is White_Space (PCRE2's lacks
// U+0085) and whose \w is Alphabetic + M + Nd + Pc + Join_Control (PCRE2 10.42's
// is L + N + '_'). Rewrites \s, \w (anywhere) and \S, \W (outside classes).
std::string onig_classes(std::string_view p) {
  static constexpr std::string_view kSpace = R"(\s\x{85})";
  static constexpr std::string_view kWord = R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control})";
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[++i];
      const std::string_view set = n == 's' || n == 'S' ? kSpace : kWord;
      if (in_class && (n == 's' || n == 'w')) {
        out += set;
      } else if (!in_class && (n == 's' || n == 'w' || n == 'S' || n == 'W')) {
        out += n == 's' || n == 'w' ? "[" : "[^";
        out += set;
        out += "]";
      } else {
        out += c;
        out += n;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // literal ']' first in class
      continue;
    }
    if (in_class && c == '[' && i + 1 < p.size() && p[i + 1] == ':') {  // [:alpha:]
      const size_t end = p.find(":]", i + 2);
      if (end != std::string_view::npos) {
        out += p.substr(i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

// "<0x4A>" -> 0x4A (HF byte-fallback tokens); nullopt for anything else.
std::optional<uint8_t> parse_byte_token(std::string_view token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token.back() != '>') return std::nullopt;
  int value = 0;
  for (char c : token.substr(3, 2)) {
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                      : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    value = value * 16 + digit;
  }
  return static_cast<uint8_t>(value);
}

bool is_ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// One pre-tokenizer split of `piece` (HF NormalizedString::split semantics).
void split_piece(const PreTokenizerStep& step, const std::string& piece,
                 std::vector<std::string>& out) {
  std::vector<std::pair<std::pair<size_t, size_t>, bool>> segs;  // (range, is_delimiter)
  size_t prev = 0;
  for (const auto& [b, e] : step.regex->find_all(piece)) {
    if (b > prev) segs.push_back({{prev, b}, step.invert});
    segs.push_back({{b, e}, !step.invert});
    prev = e;
  }
  if (prev < piece.size()) segs.push_back({{prev, piece.size()}, step.invert});

  std::vector<std::pair<size_t, size_t>> keep;
  bool previous = false;
  switch (step.behavior) {
    case SplitBehavior::kIsolated:
      for (const auto& s : segs) keep.push_back(s.first);
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : segs) if (!s.second) keep.push_back(s.first);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (const auto& [r, delim] : segs) {
        if (delim && !previous && !keep.empty()) keep.back().second = r.second;
        else keep.push_back(r);
        previous = delim;
      }
      break;
    case SplitBehavior::kMergedWithNext:
      for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
        if (it->second && !previous && !keep.empty()) keep.back().first = it->first.first;
        else keep.push_back(it->first);
        previous = it->second;
      }
      std::reverse(keep.begin(), keep.end());
      break;
    case SplitBehavior::kContiguous:
      for (size_t k = 0; k < segs.size(); ++k) {
        if (k > 0 && segs[k].second == previous) keep.back().second = segs[k].first.second;
        else keep.push_back(segs[k].first);
        previous = segs[k].second;
      }
      break;
  }
  for (const auto& [b, e] : keep) {
    if (e > b) out.push_back(piece.substr(b, e - b));
  }
}

}  // namespace

const std::array<std::string, 256>& bytes_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      t[b] = utf8_encode(printable ? static_cast<char32_t>(b) : next++);
    }
    return t;
  }();
  return table;
}

std::optional<uint8_t> unicode_to_byte(char32_t c) {
  static const std::array<int, 324> table = [] {
    std::array<int, 324> t;
    t.fill(-1);
    for (int b = 0; b < 256; ++b) {
      size_t i = 0;
      t[*utf8_next(bytes_to_unicode()[b], i)] = b;
    }
    return t;
  }();
  if (c >= table.size() || table[c] < 0) return std::nullopt;
  return static_cast<uint8_t>(table[c]);
}

// ---- Vocabulary ---------------------------------------------------------------

Vocabulary::Vocabulary(std::vector<std::pair<std::string, int64_t>> entries,
                       const std::string& source, const std::string& field) {
  constexpr int64_t kMaxId = (int64_t{1} << 31) - 1;
  int64_t size = 0;
  for (const auto& [token, id] : entries) {
    const std::string where = field + "[\"" + token + "\"]";
    if (id < 0 || id >= kMaxId) {
      throw InputError(source, where, "a token id in [0, 2^31)", std::to_string(id));
    }
    size = std::max(size, id + 1);
  }
  tokens_.resize(static_cast<size_t>(size));
  has_token_.resize(static_cast<size_t>(size));
  ids_.reserve(entries.size());
  for (auto& [token, id] : entries) {
    if (has_token_[id]) {
      throw InputError(source, field + "[\"" + token + "\"]", "a unique token id",
                       std::to_string(id) + ", also the id of \"" + tokens_[id] + "\"");
    }
    has_token_[id] = true;
    tokens_[id] = token;
    ids_.emplace(std::move(token), id);
  }
}

// ---- Regex ------------------------------------------------------------------

struct Regex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() { pcre2_code_free(code); }
};

Regex::Regex(std::string_view pattern) : impl_(std::make_unique<Impl>()) {
  const std::string widened = onig_classes(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(widened.data()), widened.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error,
                              &offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    std::string what = reinterpret_cast<char*>(message);
    if (widened == pattern) what += " at offset " + std::to_string(offset);
    throw std::invalid_argument(what + " in /" + std::string(pattern) + "/");
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter
}

Regex::~Regex() = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  std::vector<std::pair<size_t, size_t>> matches;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    const int rc = pcre2_match(impl_->code, subject, text.size(), pos, 0, data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw std::runtime_error("pre-tokenizer regex: " +
                               std::string(reinterpret_cast<char*>(message)));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
    if (ov[1] > ov[0]) {
      matches.emplace_back(ov[0], ov[1]);
      pos = ov[1];
    } else {  // empty match: step over one character
      pos = ov[0];
      utf8_next(text, pos);
    }
  }
  return matches;
}

// ---- PipelineTokenizer -------------------------------------------------------

PipelineTokenizer::PipelineTokenizer(Pipeline pipeline) : pipeline_(std::move(pipeline)) {
  const auto& added = pipeline_.added_tokens;
  for (size_t i = 0; i < added.size(); ++i) {
    added_by_id_[added[i].id] = i;
    added_by_text_[added[i].content] = added[i].id;
    if (!added[i].content.empty()) {
      added_by_first_byte_[static_cast<uint8_t>(added[i].content[0])].push_back(i);
    }
  }
  for (auto& candidates : added_by_first_byte_) {
    std::stable_sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
      return added[a].content.size() > added[b].content.size();
    });
  }
}

std::vector<std::pair<std::string_view, std::optional<int64_t>>> PipelineTokenizer::split_added(
    std::string_view text) const {
  std::vector<std::pair<std::string_view, std::optional<int64_t>>> out;
  size_t done = 0;  // text before `done` is already in `out`
  for (size_t pos = 0; pos < text.size(); ++pos) {
    for (size_t index : added_by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      const AddedToken& token = pipeline_.added_tokens[index];
      if (text.substr(pos).substr(0, token.content.size()) != token.content) continue;
      size_t begin = pos, end = pos + token.content.size();
      if (token.lstrip) while (begin > done && is_ascii_space(text[begin - 1])) --begin;
      if (token.rstrip) while (end < text.size() && is_ascii_space(text[end])) ++end;
      if (begin > done) out.emplace_back(text.substr(done, begin - done), std::nullopt);
      out.emplace_back(text.substr(begin, end - begin), token.id);
      done = end;
      pos = end - 1;
      break;
    }
  }
  if (done < text.size()) out.emplace_back(text.substr(done), std::nullopt);
  return out;
}

std::vector<std::string> PipelineTokenizer::pre_tokenize(std::string_view segment) const {
  std::string normalized(segment);
  for (const auto& step : pipeline_.normalizer) {
    if (step.kind == NormalizerStep::Kind::kPrepend) {
      if (!normalized.empty()) normalized.insert(0, step.content);
    } else {
      replace_all(normalized, step.pattern, step.content);
    }
  }
  std::vector<std::string> pieces;
  if (!normalized.empty()) pieces.push_back(std::move(normalized));
  for (const auto& step : pipeline_.pre_tokenizer) {
    std::vector<std::string> next;
    for (auto& piece : pieces) {
      if (step.kind == PreTokenizerStep::Kind::kPrefixSpace) {
        if (piece[0] != ' ') piece.insert(0, " ");
        next.push_back(std::move(piece));
      } else {
        split_piece(step, piece, next);
      }
    }
    pieces = std::move(next);
  }
  return pieces;
}

std::vector<int64_t> PipelineTokenizer::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  for (const auto& [segment, added_id] : split_added(text)) {
    if (added_id) {
      ids.push_back(*added_id);
      continue;
    }
    for (const auto& piece : pre_tokenize(segment)) encode_piece(piece, ids);
  }
  return ids;
}

std::string PipelineTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<std::pair<std::string, bool>> tokens;  // (text, is an added token)
  for (int64_t id : ids) {
    if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
      tokens.emplace_back(pipeline_.added_tokens[it->second].content, true);
    } else if (const std::string* token = model_token(id)) {
      tokens.emplace_back(*token, false);
    }
  }
  std::string text;
  if (!pipeline_.decoder) {
    for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i].first;
    return text;
  }
  for (const auto& step : *pipeline_.decoder) {
    using Kind = DecoderStep::Kind;
    if (step.kind == Kind::kByteLevel || step.kind == Kind::kFuse) {
      std::string fused;
      for (const auto& [token, added] : tokens) {
        if (step.kind == Kind::kFuse || added) {
          fused += token;
          continue;
        }
        std::string bytes;  // HF keeps a token verbatim when a char is not byte-level
        for (size_t i = 0; i < token.size();) {
          const auto c = utf8_next(token, i);
          const auto b = c ? unicode_to_byte(*c) : std::nullopt;
          if (!b) {
            bytes = token;
            break;
          }
          bytes += static_cast<char>(*b);
        }
        fused += bytes;
      }
      tokens.assign(1, {std::move(fused), false});
    }
    for (auto& [token, added] : tokens) {
      if (step.kind == Kind::kByteFallback && !added) {
        if (const auto byte = parse_byte_token(token)) token.assign(1, static_cast<char>(*byte));
      } else if (step.kind == Kind::kReplace) {
        replace_all(token, step.pattern, step.content);
      } else if (step.kind == Kind::kStrip && !step.content.empty()) {
        const std::string& c = step.content;
        for (int k = 0; k < step.start && token.starts_with(c); ++k) token.erase(0, c.size());
        for (int k = 0; k < step.stop && token.ends_with(c); ++k) token.resize(token.size() - c.size());
      }
    }
  }
  for (const auto& token : tokens) text += token.first;
  return text;
}

std::string PipelineTokenizer::id_to_token(int64_t id) const {
  if (auto it = added_by_id_.find(id); it != added_by_id_.end()) {
    return pipeline_.added_tokens[it->second].content;
  }
  const std::string* token = model_token(id);
  return token ? *token : std::string();
}

std::optional<int64_t> PipelineTokenizer::token_to_id(std::string_view token) const {
  if (auto it = added_by_text_.find(token); it != added_by_text_.end()) {
    return it->second;
  }
  return model_token_id(token);
}

int64_t PipelineTokenizer::vocab_size() const {
  int64_t size = model_vocab_size();
  for (const auto& token : pipeline_.added_tokens) size = std::max(size, token.id + 1);
  return size;
}

}  // namespace editgate::harness

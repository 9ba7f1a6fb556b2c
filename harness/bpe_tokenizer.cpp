#include "harness/bpe_tokenizer.h"

#include <algorithm>
#include <queue>

#include "harness/input_error.h"

namespace editgate::harness {
namespace {

constexpr size_t kMaxCachedPieceBytes = 256;  // longer pieces are rare; don't let them fill memory
constexpr size_t kMaxCacheEntries = 1 << 18;

// Length of the UTF-8 character starting at s[i]; 1 for an invalid byte.
size_t char_length(std::string_view s, size_t i) {
  const auto b = static_cast<uint8_t>(s[i]);
  const size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 1;
  if (i + len > s.size()) return 1;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return 1;
  }
  return len;
}

std::string byte_token(uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("<0x") + kHex[b >> 4] + kHex[b & 0xF] + ">";
}

}  // namespace

BpeTokenizer::BpeTokenizer(BpeConfig config, Pipeline pipeline)
    : PipelineTokenizer(std::move(pipeline)),
      byte_level_(config.byte_level),
      byte_fallback_(config.byte_fallback),
      ignore_merges_(config.ignore_merges),
      fuse_unk_(config.fuse_unk) {
  const std::string& src = config.source;
  vocab_ = Vocabulary(std::move(config.vocab),
                      config.vocab_source.empty() ? src : config.vocab_source, config.vocab_field);
  if (config.unk_token) {
    unk_id_ = vocab_.find(*config.unk_token);
    if (!unk_id_) {
      throw InputError(src, "model.unk_token", "a token of the vocabulary",
                       "\"" + *config.unk_token + "\"");
    }
  }
  for (int b = 0; b < 256; ++b) {
    byte_ids_[b] = vocab_.find(bytes_to_unicode()[b]).value_or(-1);
  }
  merges_.reserve(config.merges.size());
  for (size_t rank = 0; rank < config.merges.size(); ++rank) {
    const auto& [left, right] = config.merges[rank];
    const std::string field =
        rank < config.merge_lines.size()
            ? config.merges_field + " line " + std::to_string(config.merge_lines[rank])
            : config.merges_field + "[" + std::to_string(rank) + "]";
    const auto l = vocab_.find(left), r = vocab_.find(right), m = vocab_.find(left + right);
    if (!l || !r || !m) {
      const std::string missing = !l   ? "part \"" + left
                                  : !r ? "part \"" + right
                                       : "merged token \"" + left + right;
      throw InputError(src, field, "merge tokens that are in the vocabulary",
                       "\"" + left + " " + right + "\", whose " + missing + "\" is not",
                       "is the merges list from a different vocabulary?");
    }
    // A repeated pair keeps its first (highest-priority) rank, as HF does.
    merges_.emplace(pair_key(*l, *r), Merge{static_cast<int32_t>(rank), *m});
  }
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int64_t>& out) const {
  const bool cacheable = piece.size() <= kMaxCachedPieceBytes;
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(piece); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int64_t> ids = tokenize_piece(piece);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
    cache_.emplace(std::string(piece), std::move(ids));
  }
}

// HF BPE: an unknown character becomes its <0xXX> byte tokens when they all
// exist (byte_fallback), else unk (fused with a preceding unk if fuse_unk), else
// nothing.
void BpeTokenizer::push_unknown(std::string_view chars, std::vector<int64_t>& symbols,
                                bool& last_unk) const {
  if (byte_fallback_) {
    std::vector<int64_t> bytes;
    for (char c : chars) {
      const auto id = vocab_.find(byte_token(static_cast<uint8_t>(c)));
      if (!id) break;
      bytes.push_back(*id);
    }
    if (bytes.size() == chars.size()) {
      symbols.insert(symbols.end(), bytes.begin(), bytes.end());
      last_unk = false;
      return;
    }
  }
  if (!unk_id_) return;
  if (!(fuse_unk_ && last_unk)) symbols.push_back(*unk_id_);
  last_unk = true;
}

std::vector<int64_t> BpeTokenizer::tokenize_piece(std::string_view piece) const {
  if (ignore_merges_) {
    std::string whole;
    if (byte_level_) {
      for (char c : piece) whole += bytes_to_unicode()[static_cast<uint8_t>(c)];
    } else {
      whole = piece;
    }
    if (const auto id = vocab_.find(whole)) return {*id};
  }

  std::vector<int64_t> symbols;
  bool last_unk = false;
  for (size_t i = 0; i < piece.size();) {
    if (byte_level_) {
      const auto b = static_cast<uint8_t>(piece[i++]);
      if (byte_ids_[b] >= 0) {
        symbols.push_back(byte_ids_[b]);
        last_unk = false;
      } else {
        push_unknown(bytes_to_unicode()[b], symbols, last_unk);
      }
      continue;
    }
    const size_t len = char_length(piece, i);
    const std::string_view ch = piece.substr(i, len);
    i += len;
    if (const auto id = vocab_.find(ch)) {
      symbols.push_back(*id);
      last_unk = false;
    } else {
      push_unknown(ch, symbols, last_unk);
    }
  }
  if (symbols.size() < 2 || merges_.empty()) return symbols;

  // Merge loop of HF's Word::merge_all: repeatedly apply the lowest-ranked
  // adjacent pair (leftmost on ties), using a linked list and a heap.
  const int n = static_cast<int>(symbols.size());
  std::vector<int> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  struct Candidate {
    int32_t rank;
    int pos;
    int64_t merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    if (left < 0 || next[left] < 0) return;
    auto it = merges_.find(pair_key(symbols[left], symbols[next[left]]));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.merged});
  };
  for (int i = 0; i + 1 < n; ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int right = next[top.pos];
    auto it = merges_.find(pair_key(symbols[top.pos], symbols[right]));
    if (it == merges_.end() || it->second.merged != top.merged) continue;  // stale entry
    symbols[top.pos] = top.merged;
    alive[right] = false;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    consider(prev[top.pos]);
    consider(top.pos);
  }
  std::vector<int64_t> ids;
  for (int i = 0; i >= 0; i = next[i]) ids.push_back(symbols[i]);
  return ids;
}

std::vector<std::pair<int64_t, int64_t>> BpeTokenizer::merge_ids() const {
  std::vector<std::pair<int32_t, uint64_t>> ranked;  // (rank, pair key); ranks may skip repeated merges
  ranked.reserve(merges_.size());
  for (const auto& [key, merge] : merges_) ranked.emplace_back(merge.rank, key);
  std::sort(ranked.begin(), ranked.end());
  std::vector<std::pair<int64_t, int64_t>> out;
  out.reserve(ranked.size());
  for (const auto& [rank, key] : ranked) out.emplace_back(static_cast<int64_t>(key >> 32), static_cast<int64_t>(key & 0xFFFFFFFFu));
  return out;
}

}  // namespace editgate::harness

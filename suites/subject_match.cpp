#include "suites/subject_match.h"

#include <algorithm>
#include <cctype>

namespace editgate::suites {
namespace {

bool boundary(std::string_view text, size_t i) {
  return i >= text.size() || !std::isalnum(static_cast<unsigned char>(text[i]));
}

}  // namespace

bool contains_words(std::string_view text, std::string_view words) {
  if (words.empty()) return false;
  for (size_t at = text.find(words); at != std::string_view::npos; at = text.find(words, at + 1)) {
    if ((at == 0 || boundary(text, at - 1)) && boundary(text, at + words.size())) return true;
  }
  return false;
}

SubjectNames::SubjectNames(const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (n.empty() || !names_.insert(n).second) continue;
    if (std::find(lengths_.begin(), lengths_.end(), n.size()) == lengths_.end()) lengths_.push_back(n.size());
  }
}

bool SubjectNames::named_in(std::string_view text) const {
  std::string key;
  for (size_t at = 0; at < text.size(); ++at) {
    if (at > 0 && !boundary(text, at - 1)) continue;  // a name starts where a word does
    for (const size_t len : lengths_) {
      if (at + len > text.size() || !boundary(text, at + len)) continue;
      key.assign(text.substr(at, len));
      if (names_.count(key)) return true;
    }
  }
  return false;
}

}  // namespace editgate::suites

#pragma once
// Whether a prompt is about a subject, from its text: the subject's name as whole
// words. Request formats such as CounterFact's give neighbourhood prompts as bare
// strings, so FactPreservation and CoTTruncation find the edited subjects in them
// this way. Whole words, because fixture names share syllables: "ris re" must not
// match "ris ren". A name that is a whole-word prefix of another ("ris re" in
// "ris re no") still matches, so a prompt about the longer name is left out too:
// leaving out one prompt too many is safe, counting an intended change is not.

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace editgate::suites {

// `words` occurs in `text` with a non-alphanumeric character (or the text's end)
// on both sides. False for empty `words`.
bool contains_words(std::string_view text, std::string_view words);

// The names of the subjects a run edits, looked up by hash rather than one search
// per name: a run may edit thousands of subjects (CounterFact's 10k-edit MEMIT
// batches) and hold ten times as many prompts.
class SubjectNames {
 public:
  explicit SubjectNames(const std::vector<std::string>& names);  // empty names are ignored

  bool contains(const std::string& name) const { return names_.count(name) > 0; }
  // Some name occurs in `text` as whole words (as contains_words).
  bool named_in(std::string_view text) const;

 private:
  std::unordered_set<std::string> names_;
  std::vector<size_t> lengths_;  // the names' distinct lengths
};

}  // namespace editgate::suites

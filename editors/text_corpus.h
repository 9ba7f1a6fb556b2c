#pragma once
// TextCorpus: the documents second-moment statistics are collected over, read
// one at a time so memory is bounded by a batch, not by the corpus. A corpus is
// a file (JSONL with a "text" field per line, or plain text with one document
// per non-empty line) or a list of documents built in memory (the fixture
// world's training text). This unit owns reading and the corpus fingerprint
// (sha256 of the bytes that define the documents); tokenising is the caller's.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace editgate::editors {

class TextCorpus {
 public:
  /// A file: "*.jsonl" is JSON Lines with a string "text" per line; anything
  /// else is plain text, one document per non-empty line. The file is hashed
  /// here (streamed); InputError for an unreadable or empty file.
  static TextCorpus from_file(const std::filesystem::path& path);
  /// Documents in memory; `name` says where they came from (for manifests).
  static TextCorpus from_documents(std::string name, std::vector<std::string> documents);

  const std::string& name() const { return name_; }
  const std::string& sha256() const { return sha256_; }

  /// Calls fn(document) in order until it returns false or the corpus ends.
  /// InputError naming the file and line for a bad JSONL line.
  void for_each(const std::function<bool(std::string_view)>& fn) const;

 private:
  std::string name_;
  std::string sha256_;
  std::filesystem::path path_;  // file corpora
  bool jsonl_ = false;
  std::shared_ptr<const std::vector<std::string>> documents_;  // in-memory corpora
};

/// Joins short documents (words separated by single spaces) into documents of
/// at most `max_words` words, `separator` between them, as a trainer packs
/// examples into sequences; a document longer than max_words stays alone.
std::vector<std::string> pack_documents(const std::vector<std::string>& documents, std::string_view separator,
                                        int64_t max_words);

}  // namespace editgate::editors

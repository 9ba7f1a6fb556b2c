#include "editors/text_corpus.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "harness/input_error.h"
#include "harness/sha256.h"

namespace editgate::editors {

TextCorpus TextCorpus::from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string(), "", "a readable corpus file (plain text or .jsonl)", "cannot open it");
  harness::Sha256 hash;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    hash.update(buf.data(), n);
    total += n;
  }
  if (total == 0) throw InputError(path.string(), "", "a corpus with at least one document", "an empty file");
  TextCorpus c;
  c.name_ = path.string();
  c.sha256_ = hash.hex_digest();
  c.path_ = path;
  c.jsonl_ = path.extension() == ".jsonl";
  return c;
}

TextCorpus TextCorpus::from_documents(std::string name, std::vector<std::string> documents) {
  // Each document with its length, so ["ab"] and ["a", "b"] hash differently.
  harness::Sha256 hash;
  for (const auto& d : documents) {
    hash.update(std::to_string(d.size()) + ":");
    hash.update(d);
  }
  TextCorpus c;
  c.name_ = std::move(name);
  c.sha256_ = hash.hex_digest();
  c.documents_ = std::make_shared<const std::vector<std::string>>(std::move(documents));
  return c;
}

void TextCorpus::for_each(const std::function<bool(std::string_view)>& fn) const {
  if (documents_) {
    for (const auto& d : *documents_) {
      if (!fn(d)) return;
    }
    return;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw InputError(path_.string(), "", "a readable corpus file", "cannot open it");
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (!jsonl_) {
      if (!fn(line)) return;
      continue;
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers that overflow
      throw InputError(path_.string(), "line " + std::to_string(line_no), "a JSON object per line", e.what());
    }
    if (!j.is_object() || !j.contains("text") || !j["text"].is_string()) {
      throw InputError(path_.string(), "line " + std::to_string(line_no) + ": text", "a string field \"text\"",
                       j.is_object() && j.contains("text") ? std::string(j["text"].type_name()) : "none");
    }
    if (!fn(j["text"].get_ref<const std::string&>())) return;
  }
}

std::vector<std::string> pack_documents(const std::vector<std::string>& documents, std::string_view separator,
                                        int64_t max_words) {
  std::vector<std::string> out;
  std::string cur;
  int64_t words = 0;
  for (const auto& d : documents) {
    const auto n = static_cast<int64_t>(std::count(d.begin(), d.end(), ' ')) + 2;  // its words + the separator
    if (words > 0 && words + n > max_words) {
      out.push_back(std::move(cur));
      cur.clear();
      words = 0;
    }
    if (!cur.empty()) (cur += ' ').append(separator) += ' ';
    cur += d;
    words += n;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace editgate::editors

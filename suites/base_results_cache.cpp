#include "suites/base_results_cache.h"

#include <fmt/format.h>

#include <cstdio>

#include "harness/atomic_file.h"
#include "harness/file_io.h"
#include "harness/input_error.h"
#include "harness/sha256.h"

namespace editgate::suites {
namespace {

constexpr const char* kFormat = "editgate.base_results.v1";

std::string question_sha(const nlohmann::json& question) { return harness::sha256_hex(question.dump()); }

// The answers in `file` when it exists and its format, key and checksum match;
// else none. A file that exists but fails a check is reported on stderr: it
// means a crash before atomic writes, a disk error or a hand edit.
std::map<std::string, nlohmann::json> read_answers(const std::filesystem::path& file, const nlohmann::ordered_json& key) {
  std::map<std::string, nlohmann::json> answers;
  if (!std::filesystem::exists(file)) return answers;
  const auto reject = [&](const std::string& why) {
    fmt::print(stderr, "editgate: base results cache {} is unusable ({}); recomputing the base's answers\n",
               file.string(), why);
    return std::map<std::string, nlohmann::json>();
  };
  nlohmann::json doc;
  try {
    doc = harness::parse_json_strict(harness::read_file(file, "a readable base results cache"), file.string());
  } catch (const InputError& e) {
    return reject(e.what());
  }
  if (!doc.is_object() || doc.value("format", "") != kFormat) return reject(std::string("format is not ") + kFormat);
  if (!doc.contains("key") || doc["key"] != nlohmann::json(key)) return reject("its key differs from this run's");
  if (!doc.contains("answers") || !doc["answers"].is_object()) return reject("no answers object");
  if (doc.value("sha256", "") != harness::sha256_hex(doc["answers"].dump())) return reject("checksum mismatch");
  for (auto& [sha, answer] : doc["answers"].items()) answers[sha] = std::move(answer);
  return answers;
}

}  // namespace

BaseResultsCache::BaseResultsCache(std::filesystem::path dir, nlohmann::ordered_json key)
    : file_(dir / fmt::format("base_{}.json", harness::sha256_hex(key.dump()).substr(0, 16))),
      key_(std::move(key)),
      answers_(read_answers(file_, key_)) {}

const nlohmann::json* BaseResultsCache::find(const nlohmann::json& question) {
  const auto it = answers_.find(question_sha(question));
  if (it == answers_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  return &it->second;
}

void BaseResultsCache::store(const nlohmann::json& question, nlohmann::json answer) {
  answers_[question_sha(question)] = std::move(answer);
  changed_ = true;
}

void BaseResultsCache::save() const {
  if (!changed_) return;
  nlohmann::json answers = nlohmann::json::object();
  for (const auto& [sha, answer] : answers_) answers[sha] = answer;
  nlohmann::ordered_json doc = {{"format", kFormat}, {"key", key_}};
  doc["sha256"] = harness::sha256_hex(answers.dump());
  doc["answers"] = std::move(answers);
  std::filesystem::create_directories(file_.parent_path());
  write_file_atomic(file_, doc.dump() + "\n");
}

}  // namespace editgate::suites

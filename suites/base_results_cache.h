#pragma once
// The base's answers, computed once per base: gating many candidates edited from
// one base asks the base the same questions each time (its scores on the cases'
// targets, its top-1 next tokens, its greedy generations). They are kept in one
// JSON file per base, dir/base_<key sha256[:16]>.json, whose key is the base's
// weights sha256, the device type and libtorch's version (the things that move
// the numbers but not the question). Each answer is stored under the sha256 of
// its exact question, token ids included, so the tokenizer and the case set
// select answers as precisely as the weights do: another tokenizer or case
// asks another question. As the statistics cache (editors/second_moment.h):
// the file carries a checksum of its answers, is written atomically, and one
// whose format, key or checksum does not match is reported and ignored, never
// used.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace editgate::suites {

class BaseResultsCache {
 public:
  // Reads dir/base_<sha16>.json when it exists and is valid for `key`.
  BaseResultsCache(std::filesystem::path dir, nlohmann::ordered_json key);

  // The answer stored for `question`, or nullptr (counted as a miss).
  const nlohmann::json* find(const nlohmann::json& question);
  void store(const nlohmann::json& question, nlohmann::json answer);
  // Writes the file (atomically) when an answer was stored since it was read.
  void save() const;

  const std::filesystem::path& file() const { return file_; }
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  std::filesystem::path file_;
  nlohmann::ordered_json key_;
  std::map<std::string, nlohmann::json> answers_;  // by sha256 of the question's dump
  bool changed_ = false;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace editgate::suites

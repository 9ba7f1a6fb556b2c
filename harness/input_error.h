#pragma once
// InputError: the one exception type for bad user input (files, flags, JSON).
// It carries where the problem is (path, field), what was expected and what was
// found, plus an optional hint; the CLI prints it as one line and exits 2.
// Broken internal invariants use TORCH_CHECK instead and exit 3.

#include <stdexcept>
#include <string>

namespace editgate {

class InputError : public std::runtime_error {
 public:
  InputError(std::string path, std::string field, std::string expected,
             std::string got, std::string hint = {});

  const std::string& path() const { return path_; }
  const std::string& field() const { return field_; }
  const std::string& expected() const { return expected_; }
  const std::string& got() const { return got_; }
  const std::string& hint() const { return hint_; }

 private:
  std::string path_;      // file the problem is in ("" for a flag)
  std::string field_;     // field, tensor or flag name
  std::string expected_;  // what was expected, in words
  std::string got_;       // what was found
  std::string hint_;      // how to fix it, when known
};

/// "[2, 3]": a shape (any range of integer sizes) as messages write it.
template <typename Sizes>
std::string shape_text(const Sizes& sizes) {
  std::string s = "[";
  bool first = true;
  for (const auto n : sizes) {
    s += (first ? "" : ", ") + std::to_string(n);
    first = false;
  }
  return s + "]";
}

}  // namespace editgate

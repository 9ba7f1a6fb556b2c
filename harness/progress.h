#pragma once
// A one-line progress bar on stderr for long work (training, statistics,
// suites): done/total, rate, ETA and a free-text status. Drawn only when stderr
// is a terminal (or EDITGATE_PROGRESS=1), so logs and CI output stay clean;
// throttled to ~10 redraws per second.

#include <chrono>
#include <cstdint>
#include <string>

namespace editgate::harness {

class ProgressBar {
 public:
  // `unit` names what is counted ("steps", "tokens"); total <= 0 means unknown.
  ProgressBar(std::string label, int64_t total, std::string unit);
  ~ProgressBar();  // finishes the line
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(int64_t done, const std::string& status = {});
  void finish(const std::string& status = {});
  bool enabled() const { return enabled_; }

 private:
  void draw(const std::string& status, bool final);

  std::string label_;
  int64_t total_;
  std::string unit_;
  int64_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace editgate::harness

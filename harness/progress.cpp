#include "harness/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace editgate::harness {
namespace {

bool progress_wanted() {
  if (const char* env = std::getenv("EDITGATE_PROGRESS"); env != nullptr) return std::string_view(env) == "1";
  return ::isatty(STDERR_FILENO) != 0;
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  }
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      enabled_(progress_wanted()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (!finished_) finish();
}

void ProgressBar::update(int64_t done, const std::string& status) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done != total_) return;
  last_draw_ = now;
  draw(status, false);
}

void ProgressBar::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(status, true);
}

void ProgressBar::draw(const std::string& status, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  std::string line = "\r" + label_ + " ";
  if (total_ > 0) {
    constexpr int kWidth = 24;
    const double frac = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    const int filled = static_cast<int>(frac * kWidth);
    line += "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "] ";
    line += std::to_string(done_) + "/" + std::to_string(total_) + " " + unit_;
    if (!final && rate > 0) line += ", ETA " + format_duration(static_cast<double>(total_ - done_) / rate);
  } else {
    line += std::to_string(done_) + " " + unit_;
  }
  char rate_buf[48];
  std::snprintf(rate_buf, sizeof rate_buf, ", %.1f %s/s, %s", rate, unit_.c_str(), format_duration(elapsed).c_str());
  line += rate_buf;
  if (!status.empty()) line += ", " + status;
  line += "\x1b[K";  // clear the rest of the terminal line
  if (final) line += "\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace editgate::harness

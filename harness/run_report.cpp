#include "harness/run_report.h"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace editgate::harness {

Metric rate_metric(std::string name, int64_t successes, int64_t n, std::string family, std::string description) {
  Metric m;
  m.name = std::move(name);
  m.family = std::move(family);
  m.description = std::move(description);
  m.n = n;
  m.is_rate = true;
  if (n <= 0) {
    m.value = 0;
    return m;  // no trials: no interval
  }
  constexpr double z = 1.959963984540054;
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(successes) / nn;
  const double denom = 1 + z * z / nn;
  const double centre = (p + z * z / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  m.value = p;
  m.ci_low = std::max(0.0, centre - half);
  m.ci_high = std::min(1.0, centre + half);
  return m;
}

bool has_no_data(const Metric& m) { return m.is_rate && m.n <= 0; }

bool gate_failed(const GateResult& g) { return !g.passed && !g.no_data; }

bool enforced_gates_lack_data(const std::vector<GateResult>& gates) {
  bool any_enforced = false;
  for (const auto& g : gates) {
    if (g.report_only) continue;
    if (!g.no_data) return false;
    any_enforced = true;
  }
  return any_enforced;
}

std::string utc_timestamp_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace editgate::harness

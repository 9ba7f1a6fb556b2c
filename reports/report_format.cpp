#include "reports/report_format.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace editgate::reports {
namespace {

std::string non_finite(double v) {
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

bool is_drop(const harness::GateResult& g) { return g.bound_kind == "max_drop_vs_base"; }
bool is_min(const harness::GateResult& g) { return g.bound_kind == "min"; }

// The comparison sign that holds between the tested value and the bound.
std::string holding_sign(const harness::GateResult& g, bool unicode) {
  if (!std::isfinite(g.tested_value)) return "vs";
  const bool ge = g.tested_value >= g.bound;
  const bool le = g.tested_value <= g.bound;
  if (is_min(g)) return ge ? (unicode ? "\u2265" : ">=") : "<";
  return le ? (unicode ? "\u2264" : "<=") : ">";
}

void append_code_point(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool xml_allowed(char32_t cp) {
  if (cp < 0x20) return cp == 0x9 || cp == 0xA || cp == 0xD;
  if (cp >= 0xD800 && cp <= 0xDFFF) return false;
  return cp != 0xFFFE && cp != 0xFFFF && cp <= 0x10FFFF;
}

}  // namespace

std::string format_value(double v) {
  if (!std::isfinite(v)) return non_finite(v);
  if (v == 0) return "0";
  char buf[64];
  if (std::fabs(v) < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3e", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string format_exact(double v) {
  if (!std::isfinite(v)) return non_finite(v);
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string format_interval(const harness::Metric& m) {
  if (!m.ci_low || !m.ci_high) return {};
  return "[" + format_value(*m.ci_low) + ", " + format_value(*m.ci_high) + "]";
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", seconds);
  return buf;
}

const harness::Metric* find_metric(const harness::SuiteResult& suite, std::string_view name) {
  for (const auto& m : suite.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::optional<double> gate_base_value(const harness::RunReport& report, const harness::GateResult& g) {
  if (!is_drop(g)) return std::nullopt;
  for (const auto& s : report.suites) {
    if (s.name != g.suite) continue;
    if (const auto* m = find_metric(s, g.metric + "_base")) return m->value;
  }
  return std::nullopt;
}

std::string gate_tested_label(const harness::GateResult& g) {
  std::string bound;
  if (g.on == "wilson_lower") bound = "Wilson lower bound";
  if (g.on == "wilson_upper") bound = "Wilson upper bound";
  if (is_drop(g)) return bound.empty() ? "drop vs base" : "drop vs base (" + bound + ")";
  return bound.empty() ? "value" : bound;
}

std::string gate_rule(const harness::GateResult& g, bool unicode) {
  std::string prefix;
  if (g.on == "wilson_lower") prefix = "lower ";
  if (g.on == "wilson_upper") prefix = "upper ";
  if (is_drop(g)) prefix = "drop " + (prefix.empty() ? std::string() : "(" + prefix.substr(0, 5) + ") ");
  const std::string sign = is_min(g) ? (unicode ? "\u2265" : ">=") : (unicode ? "\u2264" : "<=");
  return prefix + sign + " " + format_value(g.bound);
}

std::string gate_no_data_reason(const harness::GateResult& g) {
  return harness::has_no_data(g.measured) ? "n = 0" : "base n = 0";
}

std::string gate_statement(const harness::GateResult& g, std::optional<double> base_value) {
  const char* kind = is_min(g) ? "min" : "max";
  if (g.no_data) {
    return g.metric + ": no data (" + gate_no_data_reason(g) + "), " + kind + " " + format_value(g.bound) + " not tested";
  }
  std::string s = g.metric + ": " + gate_tested_label(g) + " " + format_value(g.tested_value) + " " +
                  holding_sign(g, false) + " " + kind + " " + format_value(g.bound);
  std::string details;
  if (is_drop(g)) {
    if (base_value) details = "base " + format_value(*base_value) + ", ";
    details += "edited " + format_value(g.measured.value);
    const auto ci = format_interval(g.measured);
    if (!ci.empty()) details += ", 95% CI " + ci;
  } else {
    if (g.on != "point") details = "value " + format_value(g.measured.value);
    const auto ci = format_interval(g.measured);
    if (!ci.empty()) details += (details.empty() ? "" : ", ") + std::string("95% CI ") + ci;
  }
  if (g.measured.n > 0) details += (details.empty() ? "" : ", ") + std::string("n=") + std::to_string(g.measured.n);
  if (!details.empty()) s += " (" + details + ")";
  return s;
}

std::string sanitize_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = 0;
    char32_t cp = 0;
    char32_t min_cp = 0;
    if (c < 0x80) {
      len = 1, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min_cp = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min_cp = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min_cp = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (p[i + k] & 0x3F);
      }
    }
    ok = ok && cp >= min_cp && xml_allowed(cp);  // rejects overlong forms too
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      append_code_point(out, 0xFFFD);
      i += 1;  // resynchronise on the next byte
    }
  }
  return out;
}

std::string xml_escape(std::string_view text) {
  const std::string clean = sanitize_text(text);
  std::string out;
  out.reserve(clean.size());
  for (const char c : clean) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string junit_timestamp(const std::string& timestamp) {
  static constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:dd";
  bool ok = timestamp.size() >= kPattern.size();
  for (size_t i = 0; ok && i < kPattern.size(); ++i) {
    const char c = timestamp[i];
    ok = kPattern[i] == 'd' ? (c >= '0' && c <= '9') : c == kPattern[i];
  }
  return ok ? timestamp.substr(0, kPattern.size()) : harness::utc_timestamp_now();
}

std::string report_hostname(const harness::RunMetadata& meta) {
  return meta.hostname.empty() ? "localhost" : meta.hostname;
}

std::vector<std::string> edit_warnings(const harness::RunReport& report) {
  std::vector<std::string> out;
  if (report.meta.rerun_json.empty()) return out;
  const auto rerun = nlohmann::json::parse(report.meta.rerun_json, nullptr, false);
  if (!rerun.is_object() || !rerun.contains("edit")) return out;
  for (const auto& w : rerun["edit"].value("warnings", nlohmann::json::array())) {
    if (w.is_string()) out.push_back(w.get<std::string>());
  }
  return out;
}

}  // namespace editgate::reports

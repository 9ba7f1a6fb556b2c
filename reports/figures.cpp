#include "reports/figures.h"

#include <cmath>
#include <limits>

#include "harness/input_error.h"

namespace editgate::reports {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Field access that names the figure and the field in every error.
class Reader {
 public:
  Reader(const json& j, const std::string& key) : j_(j), path_("figure '" + key + "'") {
    if (!j_.is_object()) fail("", "a JSON object", j_.type_name());
  }

  [[noreturn]] void fail(const std::string& field, const std::string& expected, const std::string& got) const {
    throw InputError(path_, field, expected, got);
  }

  bool has(const char* field) const { return j_.contains(field) && !j_.at(field).is_null(); }

  std::string string(const char* field, bool required) const {
    if (!has(field)) {
      if (required) fail(field, "a string", "nothing");
      return {};
    }
    const json& v = j_.at(field);
    if (!v.is_string()) fail(field, "a string", v.type_name());
    return v.get<std::string>();
  }

  double number(const char* field) const {
    if (!has(field)) fail(field, "a number", "nothing");
    const json& v = j_.at(field);
    if (!v.is_number()) fail(field, "a number", v.type_name());
    return v.get<double>();
  }

  std::optional<double> optional_number(const char* field) const {
    if (!has(field)) return std::nullopt;
    return number(field);
  }

  int64_t integer(const char* field, int64_t fallback, bool required) const {
    if (!has(field)) {
      if (required) fail(field, "an integer", "nothing");
      return fallback;
    }
    const json& v = j_.at(field);
    if (!v.is_number_integer()) fail(field, "an integer", v.type_name());
    return v.get<int64_t>();
  }

  // Numbers, with null read as NaN (a point that was not measured).
  static std::vector<double> numbers(const json& v, const Reader& r, const std::string& field) {
    if (!v.is_array()) r.fail(field, "an array of numbers", v.type_name());
    std::vector<double> out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_null()) {
        out.push_back(kNaN);
      } else if (v[i].is_number()) {
        out.push_back(v[i].get<double>());
      } else {
        r.fail(field + "[" + std::to_string(i) + "]", "a number or null", v[i].type_name());
      }
    }
    return out;
  }

  std::vector<double> number_array(const char* field, bool required) const {
    if (!has(field)) {
      if (required) fail(field, "an array of numbers", "nothing");
      return {};
    }
    return numbers(j_.at(field), *this, field);
  }

  const json& array(const char* field) const {
    if (!has(field)) fail(field, "an array", "nothing");
    const json& v = j_.at(field);
    if (!v.is_array()) fail(field, "an array", v.type_name());
    return v;
  }

  const json& raw() const { return j_; }
  const std::string& path() const { return path_; }

 private:
  const json& j_;
  std::string path_;
};

void require_increasing(const Reader& r, const char* field, const std::vector<double>& xs) {
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i])) r.fail(field + ("[" + std::to_string(i) + "]"), "a finite number", "null or non-finite");
    if (i > 0 && !(xs[i] > xs[i - 1])) {
      r.fail(field, "strictly increasing values", "element " + std::to_string(i) + " not above the previous one");
    }
  }
}

void put_optional(json& j, const char* field, const std::optional<double>& v) {
  if (v) j[field] = *v;
}

}  // namespace

std::string_view figure_kind(std::string_view key) {
  const auto colon = key.find(':');
  return colon == std::string_view::npos ? key : key.substr(0, colon);
}

json to_json(const CausalTraceFigure& f) {
  json j = {{"title", f.title}, {"tokens", f.tokens}, {"layers", f.layers}, {"scores", f.scores}};
  if (!f.stream.empty()) j["stream"] = f.stream;
  if (f.subject) j["subject"] = {f.subject->first, f.subject->second};
  put_optional(j, "clean_score", f.clean_score);
  put_optional(j, "corrupted_score", f.corrupted_score);
  return j;
}

json to_json(const ProbeFigure& f) {
  json bars = json::array();
  for (const auto& b : f.bars) {
    json jb = {{"label", b.label}, {"accuracy", b.accuracy}};
    put_optional(jb, "ci_low", b.ci_low);
    put_optional(jb, "ci_high", b.ci_high);
    if (b.n > 0) jb["n"] = b.n;
    bars.push_back(std::move(jb));
  }
  json j = {{"title", f.title}, {"chance", f.chance}, {"bars", std::move(bars)}};
  put_optional(j, "bound", f.bound);
  return j;
}

json to_json(const CotCurveFigure& f) {
  json j = {{"title", f.title}, {"fractions", f.fractions}, {"agreement", f.agreement}};
  if (f.ci_low) j["ci_low"] = *f.ci_low;
  if (f.ci_high) j["ci_high"] = *f.ci_high;
  put_optional(j, "aoc", f.aoc);
  if (f.n > 0) j["n"] = f.n;
  return j;
}

json to_json(const SequentialFigure& f) {
  json series = json::array();
  for (const auto& s : f.series) series.push_back({{"label", s.label}, {"values", s.values}});
  json j = {{"title", f.title}, {"x_label", f.x_label}, {"steps", f.steps}, {"series", std::move(series)}};
  if (!f.y_label.empty()) j["y_label"] = f.y_label;
  if (f.log_x) j["log_x"] = true;
  return j;
}

CausalTraceFigure parse_causal_trace(const json& j, const std::string& key) {
  const Reader r(j, key);
  CausalTraceFigure f;
  f.title = r.string("title", false);
  for (const auto& t : r.array("tokens")) {
    if (!t.is_string()) r.fail("tokens", "an array of strings", std::string("an element of type ") + t.type_name());
    f.tokens.push_back(t.get<std::string>());
  }
  if (f.tokens.empty()) r.fail("tokens", "at least one token", "an empty array");
  f.layers = r.integer("layers", 0, true);
  if (f.layers < 1) r.fail("layers", "a positive integer", std::to_string(f.layers));
  const json& rows = r.array("scores");
  if (rows.size() != f.tokens.size()) {
    r.fail("scores", std::to_string(f.tokens.size()) + " rows (one per token)", std::to_string(rows.size()));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string field = "scores[" + std::to_string(i) + "]";
    auto row = Reader::numbers(rows[i], r, field);
    if (static_cast<int64_t>(row.size()) != f.layers) {
      r.fail(field, std::to_string(f.layers) + " values (one per layer)", std::to_string(row.size()));
    }
    f.scores.push_back(std::move(row));
  }
  f.stream = r.string("stream", false);
  if (!f.stream.empty() && f.stream != "resid" && f.stream != "mlp" && f.stream != "attn") {
    r.fail("stream", "\"resid\", \"mlp\" or \"attn\"", "\"" + f.stream + "\"");
  }
  if (r.has("subject")) {
    const json& s = r.array("subject");
    const auto n = static_cast<int64_t>(f.tokens.size());
    if (s.size() != 2 || !s[0].is_number_integer() || !s[1].is_number_integer() || s[0].get<int64_t>() < 0 ||
        s[0].get<int64_t>() >= s[1].get<int64_t>() || s[1].get<int64_t>() > n) {
      r.fail("subject", "[begin, end) with 0 <= begin < end <= " + std::to_string(n), s.dump());
    }
    f.subject = std::make_pair(s[0].get<int64_t>(), s[1].get<int64_t>());
  }
  f.clean_score = r.optional_number("clean_score");
  f.corrupted_score = r.optional_number("corrupted_score");
  return f;
}

ProbeFigure parse_probe(const json& j, const std::string& key) {
  const Reader r(j, key);
  ProbeFigure f;
  f.title = r.string("title", false);
  f.chance = r.number("chance");
  f.bound = r.optional_number("bound");
  const json& bars = r.array("bars");
  if (bars.empty()) r.fail("bars", "at least one bar", "an empty array");
  for (size_t i = 0; i < bars.size(); ++i) {
    const Reader b(bars[i], key);
    ProbeBar bar;
    bar.label = b.string("label", true);
    bar.accuracy = b.number("accuracy");
    bar.ci_low = b.optional_number("ci_low");
    bar.ci_high = b.optional_number("ci_high");
    bar.n = b.integer("n", 0, false);
    f.bars.push_back(std::move(bar));
  }
  return f;
}

CotCurveFigure parse_cot_curve(const json& j, const std::string& key) {
  const Reader r(j, key);
  CotCurveFigure f;
  f.title = r.string("title", false);
  f.fractions = r.number_array("fractions", true);
  f.agreement = r.number_array("agreement", true);
  if (f.fractions.empty()) r.fail("fractions", "at least one fraction", "an empty array");
  require_increasing(r, "fractions", f.fractions);
  if (f.fractions.front() < 0 || f.fractions.back() > 1) r.fail("fractions", "values in [0, 1]", "a value outside");
  const auto k = std::to_string(f.fractions.size());
  if (f.agreement.size() != f.fractions.size()) {
    r.fail("agreement", k + " values (one per fraction)", std::to_string(f.agreement.size()));
  }
  if (r.has("ci_low") != r.has("ci_high")) r.fail("ci_low", "ci_low and ci_high together", "only one of them");
  if (r.has("ci_low")) {
    f.ci_low = r.number_array("ci_low", true);
    f.ci_high = r.number_array("ci_high", true);
    if (f.ci_low->size() != f.fractions.size()) r.fail("ci_low", k + " values", std::to_string(f.ci_low->size()));
    if (f.ci_high->size() != f.fractions.size()) r.fail("ci_high", k + " values", std::to_string(f.ci_high->size()));
  }
  f.aoc = r.optional_number("aoc");
  f.n = r.integer("n", 0, false);
  return f;
}

SequentialFigure parse_sequential(const json& j, const std::string& key) {
  const Reader r(j, key);
  SequentialFigure f;
  f.title = r.string("title", false);
  if (r.has("x_label")) f.x_label = r.string("x_label", true);
  f.y_label = r.string("y_label", false);
  if (r.has("log_x")) {
    if (!j.at("log_x").is_boolean()) r.fail("log_x", "true or false", j.at("log_x").type_name());
    f.log_x = j.at("log_x").get<bool>();
  }
  f.steps = r.number_array("steps", true);
  if (f.steps.empty()) r.fail("steps", "at least one step", "an empty array");
  require_increasing(r, "steps", f.steps);
  if (f.log_x && f.steps.front() <= 0) r.fail("steps", "positive steps (log_x is set)", std::to_string(f.steps.front()));
  const json& series = r.array("series");
  if (series.empty()) r.fail("series", "at least one series", "an empty array");
  for (size_t i = 0; i < series.size(); ++i) {
    const Reader s(series[i], key);
    SequentialSeries out;
    out.label = s.string("label", true);
    const std::string field = "series[" + std::to_string(i) + "].values";
    out.values = Reader::numbers(s.array("values"), r, field);
    if (out.values.size() != f.steps.size()) {
      r.fail(field, std::to_string(f.steps.size()) + " values (one per step)", std::to_string(out.values.size()));
    }
    f.series.push_back(std::move(out));
  }
  return f;
}

std::vector<CheckedFigure> check_figures(const std::map<std::string, std::string>& figures) {
  std::vector<CheckedFigure> out;
  for (const auto& [key, text] : figures) {
    CheckedFigure f;
    f.key = key;
    f.kind = std::string(figure_kind(key));
    try {
      f.value = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers that overflow
      f.error = "figure '" + key + "': not valid JSON: " + e.what();
      out.push_back(std::move(f));
      continue;
    }
    try {
      if (f.kind == kCausalTraceKind) parse_causal_trace(f.value, key);
      if (f.kind == kProbeKind) parse_probe(f.value, key);
      if (f.kind == kCotCurveKind) parse_cot_curve(f.value, key);
      if (f.kind == kSequentialKind) parse_sequential(f.value, key);
    } catch (const InputError& e) {
      f.error = e.what();
    }
    if (!f.error.empty()) f.value = nullptr;
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace editgate::reports

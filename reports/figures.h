#pragma once
// Figure shapes: the JSON that suites put in RunReport::figures so that
// report.html can draw it. This unit owns the four shapes, their conversion to
// JSON text and their validating parse; it draws nothing (svg_figures.h does)
// and measures nothing (the suites and editors do).
//
// A figure's key in RunReport::figures is its kind, optionally followed by ':'
// and a label, so a run can carry several figures of one kind:
// "causal_trace", "causal_trace:Danielle_Darrieux_mlp", "probe:layer6".
//
//   causal_trace  {"title": str, "tokens": [str, ...], "layers": L,
//                  "scores": [[L numbers] per token],        // [n_tokens][layers]
//                  "stream"?: "resid"|"mlp"|"attn",
//                  "subject"?: [begin, end),                 // token range, marked with '*'
//                  "clean_score"?: num, "corrupted_score"?: num}
//   probe         {"title": str, "chance": num, "bound"?: num,
//                  "bars": [{"label": str, "accuracy": num, "ci_low"?: num,
//                            "ci_high"?: num, "n"?: int}, ...]}
//   cot_curve     {"title": str, "fractions": [0, 0.25, ...], "agreement": [...],
//                  "ci_low"?: [...], "ci_high"?: [...], "aoc"?: num, "n"?: int}
//   sequential    {"title": str, "x_label"?: str, "y_label"?: str, "log_x"?: bool,
//                  "steps": [1, 10, ...],
//                  "series": [{"label": str, "values": [one per step]}, ...]}
//
// reports/report.schema.json states the same shapes for report.json.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace editgate::reports {

inline constexpr std::string_view kCausalTraceKind = "causal_trace";
inline constexpr std::string_view kProbeKind = "probe";
inline constexpr std::string_view kCotCurveKind = "cot_curve";
inline constexpr std::string_view kSequentialKind = "sequential";

// Causal tracing (ROME, Meng et al. 2022): probability of the correct object
// when one (token, layer) state is restored in the corrupted run.
struct CausalTraceFigure {
  std::string title;
  std::vector<std::string> tokens;          // [n_tokens] prompt tokens, top to bottom
  int64_t layers = 0;                       // number of layers (columns)
  std::vector<std::vector<double>> scores;  // [n_tokens][layers]
  std::string stream;                       // "resid" | "mlp" | "attn" | "" (unspecified)
  std::optional<std::pair<int64_t, int64_t>> subject;  // [begin, end) subject tokens
  std::optional<double> clean_score;        // P(object) in the clean run
  std::optional<double> corrupted_score;    // P(object) with the subject corrupted
};

struct ProbeBar {
  std::string label;  // "before", "after LEACE", ...
  double accuracy = 0;
  std::optional<double> ci_low, ci_high;  // Wilson 95 %
  int64_t n = 0;                          // held-out examples
};

// Linear-probe accuracy before/after erasure, against chance.
struct ProbeFigure {
  std::string title;
  double chance = 0.5;
  std::optional<double> bound;  // the gate's bound (chance + tolerance), drawn as a line
  std::vector<ProbeBar> bars;
};

// CoT early answering: agreement with the full-CoT answer when the chain of
// thought is cut after each fraction of its steps.
struct CotCurveFigure {
  std::string title;
  std::vector<double> fractions;                    // [k] in [0, 1], increasing
  std::vector<double> agreement;                    // [k] in [0, 1]
  std::optional<std::vector<double>> ci_low, ci_high;  // [k] each, both or neither
  std::optional<double> aoc;                        // area over the curve
  int64_t n = 0;                                    // questions behind each point
};

struct SequentialSeries {
  std::string label;           // "efficacy", "fact preservation", ...
  std::vector<double> values;  // [steps]
};

// Sequential editing: metrics as edits accumulate.
struct SequentialFigure {
  std::string title;
  std::string x_label = "edits applied";
  std::string y_label;
  bool log_x = false;
  std::vector<double> steps;  // [k] x values, increasing (> 0 when log_x)
  std::vector<SequentialSeries> series;
};

// The kind part of a figures key ("causal_trace:foo" -> "causal_trace").
std::string_view figure_kind(std::string_view key);

// JSON values and the text to store in RunReport::figures.
nlohmann::json to_json(const CausalTraceFigure& f);
nlohmann::json to_json(const ProbeFigure& f);
nlohmann::json to_json(const CotCurveFigure& f);
nlohmann::json to_json(const SequentialFigure& f);
template <class Figure>
std::string to_figure_json(const Figure& f) {
  return to_json(f).dump();
}

// A figure of RunReport::figures after checking: `value` holds the parsed
// JSON when `error` is empty; `error` says why the text is not valid JSON or
// not a valid shape of its (known) kind. Unknown kinds are kept unchecked.
struct CheckedFigure {
  std::string key;   // as in RunReport::figures
  std::string kind;  // figure_kind(key)
  nlohmann::json value;
  std::string error;
};

// Every figure, in key order, parsed and (for the four kinds above) shape-checked.
std::vector<CheckedFigure> check_figures(const std::map<std::string, std::string>& figures);

// Validating parses. `key` names the figure in errors: an InputError with
// path "figure '<key>'", the field, what was expected and what was found.
CausalTraceFigure parse_causal_trace(const nlohmann::json& j, const std::string& key);
ProbeFigure parse_probe(const nlohmann::json& j, const std::string& key);
CotCurveFigure parse_cot_curve(const nlohmann::json& j, const std::string& key);
SequentialFigure parse_sequential(const nlohmann::json& j, const std::string& key);

}  // namespace editgate::reports

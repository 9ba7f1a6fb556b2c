#pragma once
// Presentation helpers shared by the report writers and the CLI table: number
// and interval formatting, the one-line "value vs bound" statement of a gate,
// text sanitising (valid UTF-8 without XML-forbidden control characters) and
// the JUnit timestamp. This unit owns wording and formatting only; each writer
// owns its file format, and harness/gates.h owns what a gate decides.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/run_report.h"

namespace editgate::reports {

// Four decimals with trailing zeros trimmed ("0.98", "0.9512", "12.5"); values
// below 1e-3 in magnitude use scientific notation; non-finite give "nan",
// "inf", "-inf".
std::string format_value(double v);

// Shortest text that reads back as the same double (for machine-read fields:
// JUnit properties); "nan"/"inf"/"-inf" when non-finite.
std::string format_exact(double v);

// "[0.9512, 0.9988]", or "" when the metric has no interval.
std::string format_interval(const harness::Metric& m);

// Seconds for JUnit `time` attributes: "%.3f", never negative, never an
// exponent (both schemas require a plain decimal).
std::string format_seconds(double seconds);

// The editor's warnings about the edit (edit_manifest.json "warnings", as the
// run recorded them under rerun.edit): why collateral is to be expected.
std::vector<std::string> edit_warnings(const harness::RunReport& report);

// The metric named `name` among the suite's aggregate metrics, or nullptr.
const harness::Metric* find_metric(const harness::SuiteResult& suite, std::string_view name);

// The base model's value of a max_drop_vs_base gate's metric (the suite metric
// "<metric>_base", as harness/gates.h defines), when the report has it.
std::optional<double> gate_base_value(const harness::RunReport& report, const harness::GateResult& g);

// What the gate compares, in words: "value", "Wilson lower bound",
// "Wilson upper bound", "drop vs base" (plus the bound for drops on a Wilson bound).
std::string gate_tested_label(const harness::GateResult& g);

// The rule alone, for tables: ">= 0.99", "lower >= 0.99", "drop <= 0.02".
std::string gate_rule(const harness::GateResult& g, bool unicode = false);

// Why a no_data gate has no data: "n = 0", or "base n = 0" when only the base
// of a max_drop_vs_base gate is the rate over no trials.
std::string gate_no_data_reason(const harness::GateResult& g);

// The full statement, value vs bound, e.g.
//   "efficacy_top1: Wilson lower bound 0.9530 < min 0.99 (value 0.98, 95% CI [0.953, 0.9951], n=200)"
//   "fact_recall: drop vs base 0.04 > max 0.02 (base 0.95, edited 0.91)"
// The comparison sign is the one that holds, so a failed min gate reads "<".
// A no_data gate compares nothing:
//   "paraphrase_top1: no data (n = 0), min 0.9 not tested"
std::string gate_statement(const harness::GateResult& g, std::optional<double> base_value = {});

// `text` as valid UTF-8 with no characters XML 1.0 forbids: invalid byte
// sequences and control characters other than tab, newline and carriage return
// become U+FFFD. Model generations can hold any bytes; every writer passes
// free text through this.
std::string sanitize_text(std::string_view text);

// sanitize_text(text) with &, <, >, " and ' escaped, for XML/HTML text and
// attribute values written by hand (HTML, SVG).
std::string xml_escape(std::string_view text);

// The run's timestamp in the form Ant's JUnit schema requires,
// "YYYY-MM-DDThh:mm:ss": the first 19 characters of `timestamp` when they have
// that form (a fraction or zone after them is dropped), else the current UTC time.
std::string junit_timestamp(const std::string& timestamp);

// Metadata hostname, or "localhost" when empty (Ant's schema asks for that).
std::string report_hostname(const harness::RunMetadata& meta);

}  // namespace editgate::reports

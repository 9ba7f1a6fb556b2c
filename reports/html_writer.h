#pragma once
// report.html: the run for people, as one self-contained file. This unit owns
// the page (order, tables, styling); the drawings come from svg_figures.h and
// the wording of gates from report_format.h.
//
// Order: verdict, gate table, per-suite tables (metrics with value, 95 %
// interval and n; failed cases with their messages; all cases folded), the
// figures of RunReport::figures as inline SVG, run metadata.
//
// The page loads nothing: no script, no external style, font or image, and a
// Content-Security-Policy of default-src 'none' (inline styles only) makes any
// accidental reference show up as a console error in tests. It is also
// well-formed XML (every element closed, attributes quoted), so tests can
// parse it.

#include <filesystem>
#include <string>

#include "harness/run_report.h"

namespace editgate::reports {

// report.html's text (UTF-8).
std::string report_html(const harness::RunReport& report);

// Writes report_html(report) to `path` atomically (temp file + rename).
void write_report_html(const harness::RunReport& report, const std::filesystem::path& path);

}  // namespace editgate::reports

#pragma once
// Inline SVG for the figure shapes of reports/figures.h, drawn by editgate so
// that report.html needs no script and no network. This unit owns layout,
// scales and colours; the shapes' meaning and validation belong to figures.h,
// the page around the drawings to html_writer.h.
//
// Every function returns one <svg> element (with xmlns, so it is also a valid
// standalone SVG file) whose text is escaped; cells and points carry <title>
// tooltips with their exact values. Nothing in the output uses element ids, so
// any number of figures can share a page.

#include <string>
#include <vector>

#include "reports/figures.h"

namespace editgate::reports {

// Heatmap: tokens as rows (subject tokens marked '*'), layers as columns,
// white to the stream's colour (resid purple, mlp green, attn red) over the
// scores' range, with a colour bar.
std::string causal_trace_svg(const CausalTraceFigure& f);

// Several heatmaps (a trace's resid, mlp and attn streams) stacked top to
// bottom in one <svg> element, 10 px apart, as wide as the widest.
std::string causal_trace_stack_svg(const std::vector<CausalTraceFigure>& figures);

// Bars of accuracy with Wilson intervals as error bars, a dashed chance line
// and, when set, the gate bound as a dotted line.
std::string probe_svg(const ProbeFigure& f);

// Agreement with the full-CoT answer against the fraction of the chain of
// thought kept, with the interval as a band; AOC and n in the caption.
std::string cot_curve_svg(const CotCurveFigure& f);

// One line per series against the number of edits applied (log x optional).
std::string sequential_svg(const SequentialFigure& f);

// The drawing for a checked figure of a known kind; "" for unknown kinds or
// figures with an error.
std::string figure_svg(const CheckedFigure& f);

}  // namespace editgate::reports

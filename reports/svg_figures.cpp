#include "reports/svg_figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "reports/report_format.h"

namespace editgate::reports {
namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr const char* kFont = "font-family=\"sans-serif\" font-size=\"11\"";

// Coordinates with one decimal: enough for screen pixels, short files.
std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", std::isfinite(v) ? v : 0.0);
  return buf;
}

// Width that fits a bold 13 px title starting at x (about 7.5 px a character).
double fit_title(double w, double x, const std::string& title) {
  return std::max(w, x + 7.5 * static_cast<double>(title.size()) + 16);
}

std::string svg_open(double w, double h, const std::string& label) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(w) + "\" height=\"" + px(h) + "\" viewBox=\"0 0 " +
         px(w) + " " + px(h) + "\" role=\"img\" aria-label=\"" + xml_escape(label) + "\">\n";
}

std::string text(double x, double y, const std::string& s, const char* anchor = "start", const char* extra = "") {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + anchor + "\" " + kFont + " " + extra + ">" +
         xml_escape(s) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2, const char* stroke, const char* extra = "") {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\" stroke=\"" +
         stroke + "\" " + extra + "/>\n";
}

std::string rect(double x, double y, double w, double h, const std::string& fill, const std::string& tooltip = {}) {
  std::string s = "<rect x=\"" + px(x) + "\" y=\"" + px(y) + "\" width=\"" + px(w) + "\" height=\"" + px(h) +
                  "\" fill=\"" + fill + "\"";
  if (tooltip.empty()) return s + "/>\n";
  return s + "><title>" + xml_escape(tooltip) + "</title></rect>\n";
}

// Linear blend from white to `rgb` at t in [0, 1].
std::string shade(unsigned rgb, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto mix = [&](int shift) {
    const int c = static_cast<int>((rgb >> shift) & 0xFF);
    return static_cast<int>(std::lround(255 + (c - 255) * t));
  };
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", mix(16), mix(8), mix(0));
  return buf;
}

unsigned stream_colour(const std::string& stream) {
  if (stream == "mlp") return 0x006d2c;
  if (stream == "attn") return 0xa50f15;
  if (stream == "resid") return 0x54278f;
  return 0x08519c;
}

// Y axis from lo to hi with `ticks` intervals and horizontal grid lines.
std::string y_axis(double x0, double y0, double w, double h, double lo, double hi, int ticks, const std::string& label) {
  std::string s;
  for (int i = 0; i <= ticks; ++i) {
    const double v = lo + (hi - lo) * i / ticks;
    const double y = y0 + h - h * i / ticks;
    s += line(x0, y, x0 + w, y, "#e0e0e0");
    s += text(x0 - 6, y + 4, format_value(v), "end");
  }
  s += line(x0, y0, x0, y0 + h, "#333");
  s += line(x0, y0 + h, x0 + w, y0 + h, "#333");
  if (!label.empty()) {
    s += "<text transform=\"translate(" + px(x0 - 44) + " " + px(y0 + h / 2) + ") rotate(-90)\" text-anchor=\"middle\" " +
         kFont + ">" + xml_escape(label) + "</text>\n";
  }
  return s;
}

struct LineSeries {
  std::string label;
  std::vector<double> y;
  std::optional<std::vector<double>> lo, hi;  // band, same length as y
};

struct LineChart {
  std::string title, x_label, y_label, caption;
  std::vector<double> x;
  bool log_x = false;
  bool x_percent = false;
  std::optional<std::pair<double, double>> y_range;
  std::vector<LineSeries> series;
};

std::string line_chart_svg(const LineChart& c) {
  const double x0 = 64, y0 = 34, w = 460, h = 220;
  const double legend_h = c.series.size() > 1 ? 18.0 * static_cast<double>(c.series.size()) : 0;
  const double total_w = x0 + w + 30, total_h = y0 + h + 52 + legend_h + (c.caption.empty() ? 0 : 18);
  auto tx = [&](double v) { return c.log_x ? std::log10(v) : v; };
  const double xlo = tx(c.x.front()), xhi = tx(c.x.back());
  double ylo = 0, yhi = 1;
  if (c.y_range) {
    std::tie(ylo, yhi) = *c.y_range;
  } else {
    ylo = 1e300, yhi = -1e300;
    for (const auto& s : c.series) {
      for (const double v : s.y) {
        if (std::isfinite(v)) ylo = std::min(ylo, v), yhi = std::max(yhi, v);
      }
    }
    if (ylo > yhi) ylo = 0, yhi = 1;
    if (ylo >= 0 && yhi <= 1) ylo = 0, yhi = 1;  // rates: keep the full [0, 1] scale
    if (yhi - ylo < 1e-12) ylo -= 0.5, yhi += 0.5;
  }
  auto sx = [&](double v) { return x0 + (xhi > xlo ? (tx(v) - xlo) / (xhi - xlo) : 0.5) * w; };
  auto sy = [&](double v) { return y0 + h - (std::clamp(v, ylo, yhi) - ylo) / (yhi - ylo) * h; };

  std::string s = svg_open(fit_title(total_w, x0, c.title), total_h, c.title);
  s += text(x0, 18, c.title, "start", "font-weight=\"bold\" font-size=\"13\"");
  s += y_axis(x0, y0, w, h, ylo, yhi, 4, c.y_label);
  // x ticks at the data points (few points) or at 6 even positions.
  std::vector<double> ticks = c.x;
  if (ticks.size() > 8) {
    ticks.clear();
    for (int i = 0; i <= 5; ++i) {
      const double t = xlo + (xhi - xlo) * i / 5;
      ticks.push_back(c.log_x ? std::pow(10.0, t) : t);
    }
  }
  for (const double t : ticks) {
    const std::string label = c.x_percent ? format_value(t * 100) + "%" : format_value(t);
    s += line(sx(t), y0 + h, sx(t), y0 + h + 4, "#333");
    s += text(sx(t), y0 + h + 16, label, "middle");
  }
  s += text(x0 + w / 2, y0 + h + 34, c.x_label + (c.log_x ? " (log scale)" : ""), "middle");
  for (size_t k = 0; k < c.series.size(); ++k) {
    const auto& ser = c.series[k];
    const char* colour = kPalette[k % kPaletteSize];
    if (ser.lo && ser.hi) {
      std::string upper, lower;
      for (size_t i = 0; i < c.x.size(); ++i) {
        if (!std::isfinite((*ser.lo)[i]) || !std::isfinite((*ser.hi)[i])) continue;
        upper += px(sx(c.x[i])) + "," + px(sy((*ser.hi)[i])) + " ";
        lower = px(sx(c.x[i])) + "," + px(sy((*ser.lo)[i])) + " " + lower;
      }
      s += "<polygon points=\"" + upper + lower + "\" fill=\"" + colour + "\" fill-opacity=\"0.18\" stroke=\"none\"/>\n";
    }
    std::string points;  // a missing (NaN) point breaks the line
    auto flush = [&] {
      if (!points.empty()) {
        s += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"/>\n";
      }
      points.clear();
    };
    for (size_t i = 0; i < c.x.size(); ++i) {
      if (!std::isfinite(ser.y[i])) {
        flush();
        continue;
      }
      points += px(sx(c.x[i])) + "," + px(sy(ser.y[i])) + " ";
    }
    flush();
    for (size_t i = 0; i < c.x.size(); ++i) {
      if (!std::isfinite(ser.y[i])) continue;
      std::string tip = ser.label + ": " + format_value(ser.y[i]) + " at " +
                        (c.x_percent ? format_value(c.x[i] * 100) + "%" : format_value(c.x[i]));
      if (ser.lo && ser.hi) tip += " [" + format_value((*ser.lo)[i]) + ", " + format_value((*ser.hi)[i]) + "]";
      s += "<circle cx=\"" + px(sx(c.x[i])) + "\" cy=\"" + px(sy(ser.y[i])) + "\" r=\"3.5\" fill=\"" + colour +
           "\"><title>" + xml_escape(tip) + "</title></circle>\n";
    }
    if (c.series.size() > 1) {
      const double ly = y0 + h + 50 + 18.0 * static_cast<double>(k);
      s += rect(x0, ly - 9, 14, 10, colour);
      s += text(x0 + 20, ly, ser.label);
    }
  }
  if (!c.caption.empty()) s += text(x0, total_h - 6, c.caption);
  return s + "</svg>\n";
}

}  // namespace

std::string causal_trace_svg(const CausalTraceFigure& f) {
  size_t longest = 1;
  for (const auto& t : f.tokens) longest = std::max(longest, t.size() + 1);
  const double label_w = std::clamp(7.0 * static_cast<double>(longest) + 12, 60.0, 220.0);
  const double cell_w = std::clamp(560.0 / static_cast<double>(f.layers), 8.0, 28.0), cell_h = 20;
  const double x0 = label_w, y0 = 34;
  const double grid_w = cell_w * static_cast<double>(f.layers);
  const double grid_h = cell_h * static_cast<double>(f.tokens.size());
  const bool has_caption = f.clean_score || f.corrupted_score;
  const double total_w = x0 + grid_w + 90, total_h = y0 + grid_h + 46 + (has_caption ? 18 : 0);
  double lo = 1e300, hi = -1e300;
  for (const auto& row : f.scores) {
    for (const double v : row) {
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (lo > hi) lo = 0, hi = 1;
  const unsigned colour = stream_colour(f.stream);
  auto scale = [&](double v) { return hi > lo ? (v - lo) / (hi - lo) : 0.5; };

  const std::string title = f.title.empty() ? "Causal trace" : f.title;
  std::string s = svg_open(fit_title(total_w, 8, title), total_h, title);
  s += text(8, 18, title, "start", "font-weight=\"bold\" font-size=\"13\"");
  for (size_t r = 0; r < f.tokens.size(); ++r) {
    const bool subject = f.subject && static_cast<int64_t>(r) >= f.subject->first &&
                         static_cast<int64_t>(r) < f.subject->second;
    const std::string token = f.tokens[r] + (subject ? "*" : "");
    const double y = y0 + cell_h * static_cast<double>(r);
    s += text(x0 - 6, y + cell_h / 2 + 4, token, "end");
    for (int64_t l = 0; l < f.layers; ++l) {
      const double v = f.scores[r][static_cast<size_t>(l)];
      const std::string fill = std::isfinite(v) ? shade(colour, scale(v)) : "#dddddd";
      s += rect(x0 + cell_w * static_cast<double>(l), y, cell_w, cell_h, fill,
                "token '" + token + "', layer " + std::to_string(l) + ": " + format_value(v));
    }
  }
  s += "<rect x=\"" + px(x0) + "\" y=\"" + px(y0) + "\" width=\"" + px(grid_w) + "\" height=\"" + px(grid_h) +
       "\" fill=\"none\" stroke=\"#333\"/>\n";
  const int64_t step = std::max<int64_t>(1, (f.layers + 11) / 12);
  for (int64_t l = 0; l < f.layers; l += step) {
    const double x = x0 + cell_w * (static_cast<double>(l) + 0.5);
    s += text(x, y0 + grid_h + 14, std::to_string(l), "middle");
  }
  const std::string axis = f.stream.empty() ? "restored layer" : "restored layer (" + f.stream + ")";
  s += text(x0 + grid_w / 2, y0 + grid_h + 32, axis, "middle");
  // Colour bar: ten steps from lo (bottom) to hi (top).
  const double bx = x0 + grid_w + 18, bh = std::max(60.0, std::min(grid_h, 160.0)), by = y0;
  for (int i = 0; i < 10; ++i) {
    s += rect(bx, by + bh - bh * (i + 1) / 10.0, 14, bh / 10.0 + 0.5, shade(colour, (i + 0.5) / 10.0));
  }
  s += text(bx + 18, by + 9, format_value(hi));
  s += text(bx + 18, by + bh, format_value(lo));
  if (has_caption) {
    std::string caption;
    if (f.clean_score) caption += "clean run p = " + format_value(*f.clean_score);
    if (f.corrupted_score) caption += (caption.empty() ? "" : ", ") + std::string("corrupted p = ") +
                                      format_value(*f.corrupted_score);
    s += text(8, total_h - 6, caption);
  }
  return s + "</svg>\n";
}

std::string probe_svg(const ProbeFigure& f) {
  const double x0 = 64, y0 = 34, h = 200;
  const double bar_w = 56, gap = 28;
  const double w = std::max(240.0, static_cast<double>(f.bars.size()) * (bar_w + gap) + gap);
  const double total_w = x0 + w + 110, total_h = y0 + h + 40;
  auto sy = [&](double v) { return y0 + h - std::clamp(v, 0.0, 1.0) * h; };
  const std::string title = f.title.empty() ? "Linear probe accuracy" : f.title;
  std::string s = svg_open(fit_title(total_w, x0, title), total_h, title);
  s += text(x0, 18, title, "start", "font-weight=\"bold\" font-size=\"13\"");
  s += y_axis(x0, y0, w, h, 0, 1, 4, "held-out accuracy");
  for (size_t i = 0; i < f.bars.size(); ++i) {
    const auto& b = f.bars[i];
    const double x = x0 + gap + static_cast<double>(i) * (bar_w + gap);
    std::string tip = b.label + ": accuracy " + format_value(b.accuracy);
    if (b.ci_low && b.ci_high) tip += ", 95% CI [" + format_value(*b.ci_low) + ", " + format_value(*b.ci_high) + "]";
    if (b.n > 0) tip += ", n=" + std::to_string(b.n);
    s += rect(x, sy(b.accuracy), bar_w, y0 + h - sy(b.accuracy), kPalette[i % kPaletteSize], tip);
    if (b.ci_low && b.ci_high) {
      const double cx = x + bar_w / 2;
      s += line(cx, sy(*b.ci_low), cx, sy(*b.ci_high), "#222", "stroke-width=\"1.5\"");
      s += line(cx - 8, sy(*b.ci_low), cx + 8, sy(*b.ci_low), "#222", "stroke-width=\"1.5\"");
      s += line(cx - 8, sy(*b.ci_high), cx + 8, sy(*b.ci_high), "#222", "stroke-width=\"1.5\"");
    }
    s += text(x + bar_w / 2, sy(b.ci_high.value_or(b.accuracy)) - 5, format_value(b.accuracy), "middle");
    s += text(x + bar_w / 2, y0 + h + 16, b.label, "middle");
    if (b.n > 0) s += text(x + bar_w / 2, y0 + h + 30, "n=" + std::to_string(b.n), "middle", "fill=\"#666\"");
  }
  s += line(x0, sy(f.chance), x0 + w, sy(f.chance), "#555", "stroke-dasharray=\"6 4\" stroke-width=\"1.5\"");
  s += text(x0 + w + 6, sy(f.chance) + 13, "chance " + format_value(f.chance));
  if (f.bound) {
    s += line(x0, sy(*f.bound), x0 + w, sy(*f.bound), "#c0392b", "stroke-dasharray=\"2 3\" stroke-width=\"1.5\"");
    s += text(x0 + w + 6, sy(*f.bound) - 4, "gate " + format_value(*f.bound), "start", "fill=\"#c0392b\"");
  }
  return s + "</svg>\n";
}

std::string cot_curve_svg(const CotCurveFigure& f) {
  LineChart c;
  c.title = f.title.empty() ? "CoT early answering" : f.title;
  c.x_label = "fraction of the chain of thought kept";
  c.y_label = "agreement with full-CoT answer";
  c.x = f.fractions;
  c.x_percent = true;
  c.y_range = std::make_pair(0.0, 1.0);
  c.series.push_back({"agreement", f.agreement, f.ci_low, f.ci_high});
  if (f.aoc) c.caption = "area over the curve (AOC) = " + format_value(*f.aoc);
  if (f.n > 0) c.caption += (c.caption.empty() ? "" : ", ") + std::string("n = ") + std::to_string(f.n);
  return line_chart_svg(c);
}

std::string sequential_svg(const SequentialFigure& f) {
  LineChart c;
  c.title = f.title.empty() ? "Sequential editing" : f.title;
  c.x_label = f.x_label;
  c.y_label = f.y_label;
  c.x = f.steps;
  c.log_x = f.log_x;
  for (const auto& ser : f.series) c.series.push_back({ser.label, ser.values, std::nullopt, std::nullopt});
  return line_chart_svg(c);
}

std::string figure_svg(const CheckedFigure& f) {
  if (!f.error.empty()) return {};
  if (f.kind == kCausalTraceKind) return causal_trace_svg(parse_causal_trace(f.value, f.key));
  if (f.kind == kProbeKind) return probe_svg(parse_probe(f.value, f.key));
  if (f.kind == kCotCurveKind) return cot_curve_svg(parse_cot_curve(f.value, f.key));
  if (f.kind == kSequentialKind) return sequential_svg(parse_sequential(f.value, f.key));
  return {};
}

std::string causal_trace_stack_svg(const std::vector<CausalTraceFigure>& figures) {
  std::string body;
  double y = 0, width = 0;
  for (const auto& f : figures) {
    std::string svg = causal_trace_svg(f);
    // Every drawing opens with "<svg xmlns=... width=\"W\" height=\"H\"": read its size back.
    const auto attribute = [&](const std::string& name) {
      const auto at = svg.find(name + "=\"");
      return at == std::string::npos ? 400.0 : std::stod(svg.substr(at + name.size() + 2));
    };
    const double h = attribute("height"), w = attribute("width");
    svg.insert(4, " y=\"" + px(y) + "\"");  // "<svg" -> "<svg y=..."
    body += svg + "\n";
    y += h + 10;
    width = std::max(width, w);
  }
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(width) + "\" height=\"" + px(y) +
         "\">\n" + body + "</svg>\n";
}

}  // namespace editgate::reports

#pragma once
// Contract: the pieces of our SVG charts (pareto.svg, the charts of
// report.html): number and pixel formatting that is the same on every machine
// (printf with fixed formats, C locale), XML escaping, an axis scale with
// "nice" ticks (logarithmic with decade ticks when every value is positive and
// they span at least kLogSpan, else linear with 1/2/5 x 10^k steps), and a
// line chart of named series. Pure text: the same input gives the same bytes.

#include <string>
#include <utility>
#include <vector>

namespace servesim {

/// Max / min ratio from which an all-positive axis is drawn on a log scale.
constexpr double kLogSpan = 20.0;

/// A value for a tick label or tooltip ("%.4g").
std::string svg_number(double v);
/// A coordinate in pixels ("%.1f").
std::string svg_px(double v);
/// `text` with & < > " escaped for XML.
std::string svg_escape(const std::string& text);

/// One plotted axis: value range, linear or log, and where its ticks go.
struct SvgScale {
  double lo = 0.0, hi = 1.0;
  bool log = false;
  std::vector<double> ticks;
  /// Where `v` sits between lo (0) and hi (1).
  double fraction(double v) const;
};

/// A scale covering `values` (not empty); `allow_log` false forces linear.
SvgScale svg_scale(const std::vector<double>& values, bool allow_log = true);

struct SvgSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order
};

struct SvgLineChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  bool x_log_allowed = true;
  bool y_from_zero_to_one = false;  // a fraction: the y axis is 0..1 whatever the data
  /// Vertical marker lines with their labels (e.g. an SLO target).
  std::vector<std::pair<double, std::string>> x_markers;
};

/// A line chart (one polyline per series, legend when more than one); "no data" when every series is empty.
std::string svg_line_chart(const std::vector<SvgSeries>& series, const SvgLineChartOptions& options);

}  // namespace servesim

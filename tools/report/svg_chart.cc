#include "tools/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace servesim {
namespace {

constexpr double kWidth = 640.0, kHeight = 360.0;
constexpr double kLeft = 70.0, kRight = 20.0, kTop = 40.0, kBottom = 50.0;
// Series colours, cycled (colour-blind-safe palette).
const char* const kColours[] = {"#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442", "#000000"};

}  // namespace

std::string svg_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

std::string svg_px(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", v);
  return text;
}

std::string svg_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

double SvgScale::fraction(double v) const {
  return log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
}

SvgScale svg_scale(const std::vector<double>& values, bool allow_log) {
  SvgScale s;
  double lo = *std::min_element(values.begin(), values.end());
  double hi = *std::max_element(values.begin(), values.end());
  if (allow_log && lo > 0.0 && hi / lo >= kLogSpan) {
    s.log = true;
    s.lo = std::pow(10.0, std::floor(std::log10(lo)));
    s.hi = std::pow(10.0, std::ceil(std::log10(hi)));
    const bool few_decades = s.hi / s.lo <= 100.0;
    for (double decade = s.lo; decade <= s.hi * 1.0001; decade *= 10.0) {
      for (double m : {1.0, 2.0, 5.0}) {
        if ((m == 1.0 || few_decades) && decade * m <= s.hi * 1.0001) s.ticks.push_back(decade * m);
      }
    }
    return s;
  }
  if (hi == lo) {
    const double pad = lo == 0.0 ? 1.0 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  s.lo = std::floor(lo / step) * step;
  s.hi = std::ceil(hi / step) * step;
  for (double t = s.lo; t <= s.hi + step * 1e-6; t += step) s.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return s;
}

std::string svg_line_chart(const std::vector<SvgSeries>& series, const SvgLineChartOptions& options) {
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_px(kWidth) + "\" height=\"" +
                    svg_px(kHeight) + "\" viewBox=\"0 0 " + svg_px(kWidth) + " " + svg_px(kHeight) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"22\" font-size=\"13\" font-weight=\"bold\">" +
         svg_escape(options.title) + "</text>\n";
  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  svg += "<rect x=\"" + svg_px(kLeft) + "\" y=\"" + svg_px(kTop) + "\" width=\"" + svg_px(plot_w) + "\" height=\"" +
         svg_px(plot_h) + "\" fill=\"none\" stroke=\"#999\"/>\n";
  std::vector<double> xs, ys;
  for (const SvgSeries& s : series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  if (xs.empty()) {
    svg += "<text x=\"" + svg_px(kLeft + plot_w / 2) + "\" y=\"" + svg_px(kTop + plot_h / 2) +
           "\" text-anchor=\"middle\" fill=\"#555\">no data</text>\n</svg>\n";
    return svg;
  }
  for (const auto& marker : options.x_markers) xs.push_back(marker.first);
  const SvgScale x_scale = svg_scale(xs, options.x_log_allowed);
  SvgScale y_scale;
  if (options.y_from_zero_to_one) {
    y_scale.ticks = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
  } else {
    y_scale = svg_scale(ys, false);
  }
  auto to_x = [&](double v) { return kLeft + x_scale.fraction(v) * plot_w; };
  auto to_y = [&](double v) { return kTop + (1.0 - y_scale.fraction(v)) * plot_h; };
  for (double t : x_scale.ticks) {
    const std::string x = svg_px(to_x(t));
    svg += "<line x1=\"" + x + "\" y1=\"" + svg_px(kTop) + "\" x2=\"" + x + "\" y2=\"" + svg_px(kTop + plot_h) +
           "\" stroke=\"#eee\"/><text x=\"" + x + "\" y=\"" + svg_px(kTop + plot_h + 14) +
           "\" text-anchor=\"middle\">" + svg_number(t) + "</text>\n";
  }
  for (double t : y_scale.ticks) {
    const std::string y = svg_px(to_y(t));
    svg += "<line x1=\"" + svg_px(kLeft) + "\" y1=\"" + y + "\" x2=\"" + svg_px(kLeft + plot_w) + "\" y2=\"" + y +
           "\" stroke=\"#eee\"/><text x=\"" + svg_px(kLeft - 5) + "\" y=\"" + svg_px(to_y(t) + 4) +
           "\" text-anchor=\"end\">" + svg_number(t) + "</text>\n";
  }
  svg += "<text x=\"" + svg_px(kLeft + plot_w / 2) + "\" y=\"" + svg_px(kHeight - 12) + "\" text-anchor=\"middle\">" +
         svg_escape(options.x_label) + (x_scale.log ? " (log scale)" : "") + "</text>\n";
  svg += "<text transform=\"translate(16 " + svg_px(kTop + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         svg_escape(options.y_label) + "</text>\n";
  for (const auto& [x, label] : options.x_markers) {
    const std::string px = svg_px(to_x(x));
    svg += "<line x1=\"" + px + "\" y1=\"" + svg_px(kTop) + "\" x2=\"" + px + "\" y2=\"" + svg_px(kTop + plot_h) +
           "\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>";
    // Label right of the line, or left of it when it would leave the plot (6.1 px per character at 11 px).
    const bool left = to_x(x) + 4.0 + 6.1 * static_cast<double>(label.size()) > kLeft + plot_w;
    svg += "<text x=\"" + svg_px(to_x(x) + (left ? -4.0 : 4.0)) + "\" y=\"" + svg_px(kTop + 12) + "\" fill=\"#c00\"" +
           (left ? " text-anchor=\"end\"" : "") + ">" + svg_escape(label) + "</text>\n";
  }
  std::size_t colour = 0;
  for (const SvgSeries& s : series) {
    const char* stroke = kColours[colour++ % (sizeof kColours / sizeof kColours[0])];
    std::string points;
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (x_scale.log && x <= 0.0)) continue;
      if (!points.empty()) points += ' ';
      points += svg_px(to_x(x));
      points += ',';
      points += svg_px(to_y(y));
    }
    svg += "<polyline fill=\"none\" stroke=\"" + std::string(stroke) + "\" stroke-width=\"1.5\" points=\"" + points +
           "\"><title>" + svg_escape(s.name) + "</title></polyline>\n";
    if (series.size() > 1) {
      const double y = kTop + 14.0 * static_cast<double>(colour);
      svg += "<rect x=\"" + svg_px(kLeft + plot_w - 150) + "\" y=\"" + svg_px(y - 8) +
             "\" width=\"10\" height=\"10\" fill=\"" + stroke + "\"/><text x=\"" + svg_px(kLeft + plot_w - 136) +
             "\" y=\"" + svg_px(y + 1) + "\">" + svg_escape(s.name) + "</text>\n";
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace servesim

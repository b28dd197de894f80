#include "tools/report/pareto_plot.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "tools/report/svg_chart.h"

namespace servesim {
namespace {

constexpr double kWidth = 760.0, kHeight = 500.0;
constexpr double kLeft = 90.0, kRight = 30.0, kTop = 62.0, kBottom = 62.0;
constexpr std::size_t kMaxLabel = 48;
constexpr double kCharWidth = 6.6, kLineHeight = 14.0;  // label box estimate at font-size 12

struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

std::string plan_label(const SweepSpec& spec, std::size_t index) {
  std::string label;
  const std::vector<std::size_t> at = spec.coordinates(index);
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    label += (label.empty() ? "" : ", ") + axis_value_text(spec.axes[a].values[at[a]]);
  }
  if (label.size() > kMaxLabel) label = label.substr(0, kMaxLabel - 3) + "...";
  return label;
}

std::string tooltip(const SweepSpec& spec, const SweepRow& row) {
  std::string text = "plan " + std::to_string(row.index);
  const std::vector<std::size_t> at = spec.coordinates(row.index);
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    text += "\n" + spec.axes[a].pointer + " = " + axis_value_text(spec.axes[a].values[at[a]]);
  }
  text += "\ngpus = " + std::to_string(row.gpus);
  const auto& names = sweep_metric_names();
  for (std::size_t m = 0; m < names.size() && m < row.metrics.size(); ++m) {
    text += "\n" + names[m] + " = " + svg_number(row.metrics[m]);
  }
  if (!row.violated.empty()) {
    text += "\nviolates:";
    for (const auto& name : row.violated) text += " " + name;
  }
  return svg_escape(text);
}

}  // namespace

std::string pareto_svg(const SweepSpec& spec, const std::vector<SweepRow>& rows, const std::vector<std::size_t>& front) {
  const SweepObjective& y_objective = spec.objectives.at(0);
  const bool by_index = spec.objectives.size() < 2;
  const std::string x_name = by_index ? "plan index" : spec.objectives[1].metric;

  const std::set<std::size_t> on_front(front.begin(), front.end());
  std::vector<std::size_t> plotted;
  std::vector<double> xs, ys;
  std::size_t ok = 0, missing = 0, violating = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].status != "ok") continue;
    ++ok;
    if (!rows[i].violated.empty()) ++violating;
    const double y = row_value(rows[i], y_objective.metric);
    const double x = by_index ? static_cast<double>(rows[i].index) : row_value(rows[i], spec.objectives[1].metric);
    if (!std::isfinite(x) || !std::isfinite(y)) {
      ++missing;
      continue;
    }
    plotted.push_back(i);
    xs.push_back(x);
    ys.push_back(y);
  }

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_px(kWidth) + "\" height=\"" + svg_px(kHeight) +
                    "\" viewBox=\"0 0 " + svg_px(kWidth) + " " + svg_px(kHeight) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Pareto front: " +
         svg_escape(y_objective.metric) + (y_objective.maximize ? " (max)" : " (min)") + " vs " + svg_escape(x_name) +
         (by_index ? "" : (spec.objectives[1].maximize ? " (max)" : " (min)")) + "</text>\n";
  std::string subtitle = std::to_string(rows.size()) + " plans, " + std::to_string(ok) + " feasible, " +
                         std::to_string(front.size()) + " on the front";
  if (spec.objectives.size() > 2) {
    subtitle += " (front on all " + std::to_string(spec.objectives.size()) + " objectives, drawn on the first two)";
  }
  if (!spec.constraints.empty()) {
    subtitle += "; " + std::to_string(violating) + " missing a constraint (grey crosses)";
  }
  if (missing > 0) subtitle += "; " + std::to_string(missing) + " without a value, not drawn";
  svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"44\" fill=\"#555\">" + svg_escape(subtitle) + "</text>\n";

  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  svg += "<rect x=\"" + svg_px(kLeft) + "\" y=\"" + svg_px(kTop) + "\" width=\"" + svg_px(plot_w) + "\" height=\"" + svg_px(plot_h) +
         "\" fill=\"none\" stroke=\"#999\"/>\n";
  if (plotted.empty()) {
    svg += "<text x=\"" + svg_px(kLeft + plot_w / 2) + "\" y=\"" + svg_px(kTop + plot_h / 2) +
           "\" text-anchor=\"middle\" fill=\"#555\">no feasible plan to draw</text>\n</svg>\n";
    return svg;
  }
  const SvgScale xs_scale = svg_scale(xs), ys_scale = svg_scale(ys);
  auto to_x = [&](double v) { return kLeft + xs_scale.fraction(v) * plot_w; };
  auto to_y = [&](double v) { return kTop + (1.0 - ys_scale.fraction(v)) * plot_h; };
  for (double t : xs_scale.ticks) {
    const std::string x = svg_px(to_x(t));
    svg += "<line x1=\"" + x + "\" y1=\"" + svg_px(kTop) + "\" x2=\"" + x + "\" y2=\"" + svg_px(kTop + plot_h) +
           "\" stroke=\"#eee\"/>\n";
    svg += "<text x=\"" + x + "\" y=\"" + svg_px(kTop + plot_h + 16) + "\" text-anchor=\"middle\">" + svg_number(t) +
           "</text>\n";
  }
  for (double t : ys_scale.ticks) {
    const std::string y = svg_px(to_y(t));
    svg += "<line x1=\"" + svg_px(kLeft) + "\" y1=\"" + y + "\" x2=\"" + svg_px(kLeft + plot_w) + "\" y2=\"" + y +
           "\" stroke=\"#eee\"/>\n";
    svg += "<text x=\"" + svg_px(kLeft - 6) + "\" y=\"" + svg_px(to_y(t) + 4) + "\" text-anchor=\"end\">" + svg_number(t) +
           "</text>\n";
  }
  svg += "<text x=\"" + svg_px(kLeft + plot_w / 2) + "\" y=\"" + svg_px(kHeight - 16) + "\" text-anchor=\"middle\">" +
         svg_escape(x_name) + (xs_scale.log ? " (log scale)" : "") + "</text>\n";
  svg += "<text transform=\"translate(18 " + svg_px(kTop + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         svg_escape(y_objective.metric) + (ys_scale.log ? " (log scale)" : "") + "</text>\n";

  // Front labels: right of the point (left when that leaves the plot), nudged
  // up or down in line steps, in plot order, until they clear the ones placed.
  std::vector<Box> placed;
  auto label_at = [&](double x, double y, std::size_t chars, bool* anchor_end) {
    const double width = kCharWidth * static_cast<double>(chars);
    *anchor_end = x + 8.0 + width > kLeft + plot_w;
    const double x0 = *anchor_end ? x - 8.0 - width : x + 8.0;
    double best_y = y - 6.0;
    for (int step = 0; step < 12; ++step) {
      const double offset = (step % 2 == 0 ? -1.0 : 1.0) * kLineHeight * static_cast<double>((step + 1) / 2);
      const double baseline = y - 6.0 + offset;
      const Box box{x0, baseline - kLineHeight + 3.0, x0 + width, baseline + 3.0};
      if (std::none_of(placed.begin(), placed.end(), [&](const Box& b) { return b.overlaps(box); })) {
        best_y = baseline;
        break;
      }
    }
    placed.push_back(Box{x0, best_y - kLineHeight + 3.0, x0 + width, best_y + 3.0});
    return std::make_pair(*anchor_end ? x - 8.0 : x0, best_y);
  };

  // Labels: the front's first (full: index and axis values), so they get the places next to their
  // points; then the dominated plans' (index only). Drawn the other way round: the front on top.
  struct Label {
    std::string text;
    double x = 0.0, y = 0.0;
    bool anchor_end = false;
  };
  std::vector<Label> labels(plotted.size());
  for (bool front_pass : {true, false}) {
    for (std::size_t p = 0; p < plotted.size(); ++p) {
      if (on_front.count(plotted[p]) != (front_pass ? 1u : 0u)) continue;
      if (!rows[plotted[p]].violated.empty()) continue;  // drawn as a cross, unlabelled
      const std::size_t index = rows[plotted[p]].index;
      Label& label = labels[p];
      label.text.assign(1, '#');  // built by appends: GCC 12 warns (-Wrestrict) on "#" + std::string
      label.text += std::to_string(index);
      if (front_pass) {
        label.text += ' ';
        label.text += plan_label(spec, index);
      }
      const auto [lx, ly] = label_at(to_x(xs[p]), to_y(ys[p]), label.text.size(), &label.anchor_end);
      label.x = lx;
      label.y = ly;
    }
  }
  for (bool front_pass : {false, true}) {
    for (std::size_t p = 0; p < plotted.size(); ++p) {
      const SweepRow& row = rows[plotted[p]];
      if (on_front.count(plotted[p]) != (front_pass ? 1u : 0u)) continue;
      const std::string cx = svg_px(to_x(xs[p])), cy = svg_px(to_y(ys[p]));
      if (!row.violated.empty()) {
        const double x = to_x(xs[p]), y = to_y(ys[p]);
        svg += "<g class=\"violating\"><title>" + tooltip(spec, row) + "</title><path d=\"M" + svg_px(x - 3.5) + " " +
               svg_px(y - 3.5) + "L" + svg_px(x + 3.5) + " " + svg_px(y + 3.5) + "M" + svg_px(x - 3.5) + " " +
               svg_px(y + 3.5) + "L" + svg_px(x + 3.5) + " " + svg_px(y - 3.5) + "\" stroke=\"#adb5bd\"/></g>\n";
        continue;
      }
      svg += "<g class=\"" + std::string(front_pass ? "front" : "dominated") + "\"><title>" + tooltip(spec, row) +
             "</title>";
      svg += front_pass ? "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"5.5\" fill=\"#d9480f\"/>"
                        : "<circle cx=\"" + cx + "\" cy=\"" + cy + "\" r=\"4.5\" fill=\"none\" stroke=\"#868e96\"/>";
      const Label& label = labels[p];
      svg += "<text x=\"" + svg_px(label.x) + "\" y=\"" + svg_px(label.y) + "\" fill=\"";
      svg += front_pass ? "#333\"" : "#868e96\"";
      if (label.anchor_end) svg += " text-anchor=\"end\"";
      svg += '>';
      svg += svg_escape(label.text);
      svg += "</text>";
      svg += "</g>\n";
    }
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace servesim

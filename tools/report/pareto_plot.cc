#include "tools/report/pareto_plot.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "sim/sweep/gpu_price.h"
#include "sim/config/provenance.h"
#include "tools/report/svg_chart.h"

namespace servesim {
namespace {

constexpr double kWidth = 900.0, kHeight = 590.0;
constexpr double kLeft = 90.0, kRight = 200.0, kTop = 92.0, kBottom = 62.0;  // legend right of the plot
constexpr double kBand = 14.0;            // where plans beyond an axis are drawn, outside the plot area
constexpr std::size_t kMaxLabel = 48;
constexpr std::size_t kFullLabels = 20;   // fronts up to this size get axis values in their labels
constexpr double kCharWidth = 6.6, kLineHeight = 14.0;  // label box estimate at font-size 12
constexpr const char* kPalette[] = {"#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00",
                                    "#0c8599", "#c2255c", "#5c940d", "#6741d9", "#495057"};
constexpr std::size_t kColours = sizeof kPalette / sizeof kPalette[0];

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

std::string tooltip(const SweepSpec& spec, const SweepRow& row, const std::string& hardware) {
  std::string text = "plan " + std::to_string(row.index);
  const std::vector<std::size_t> at = spec.coordinates(row.index);
  for (std::size_t a = 0; a < spec.axes.size(); ++a) {
    text += "\n" + spec.axes[a].pointer + " = " + axis_value_text(spec.axes[a].values[at[a]]);
  }
  text += "\nhardware = " + hardware + "\ngpus = " + std::to_string(row.gpus);
  const auto& names = sweep_metric_names();
  for (std::size_t m = 0; m < names.size() && m < row.metrics.size(); ++m) {
    if (!std::isnan(row.metrics[m])) text += "\n" + names[m] + " = " + svg_number(row.metrics[m]);
  }
  if (!row.violated.empty()) {
    text += "\nviolates:";
    for (const auto& name : row.violated) text += " " + name;
  }
  return svg_escape(text);
}

// The value range an axis shows: `core` (the front, the plans that meet the constraints or, when
// none does, the middle 90 % of the feasible plans, and the constraint bounds on this metric),
// widened for context up to 10x (a log axis) or by half its width (linear), never beyond the
// data. Plans beyond (overloaded plans with 10^4 s latencies, say) are drawn in a band outside
// the axis instead of stretching it.
std::pair<double, double> shown_range(const std::vector<double>& all, const std::vector<double>& core) {
  const double data_lo = *std::min_element(all.begin(), all.end());
  const double data_hi = *std::max_element(all.begin(), all.end());
  double lo = *std::min_element(core.begin(), core.end());
  double hi = *std::max_element(core.begin(), core.end());
  if (lo > 0.0 && data_lo > 0.0 && data_hi / data_lo >= kLogSpan) {
    lo /= 10.0;
    hi *= 10.0;
  } else {
    const double pad = hi > lo ? (hi - lo) * 0.5 : std::fabs(hi) * 0.5;
    lo -= pad;
    hi += pad;
  }
  return {std::max(lo, data_lo), std::min(hi, data_hi)};
}

std::vector<double> middle_ninety(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return {values[values.size() * 5 / 100], values[(values.size() - 1) * 95 / 100]};
}

}  // namespace

std::string plan_hardware_label(const SweepSpec& spec, std::size_t index) {
  std::string label;
  for (const auto& node : plan_hardware(spec.config(index))) {
    label += (label.empty() ? "" : " + ") + (node.is_null() ? std::string("default") : PriceBook::hardware_name(node));
  }
  return label;
}

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

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + svg_px(kWidth) + "\" height=\"" +
                    svg_px(kHeight) + "\" viewBox=\"0 0 " + svg_px(kWidth) + " " + svg_px(kHeight) +
                    "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"24\" font-size=\"15\" font-weight=\"bold\">Pareto front: " +
         svg_escape(y_objective.metric) + (y_objective.maximize ? " (max)" : " (min)") + " vs " + svg_escape(x_name) +
         (by_index ? "" : (spec.objectives[1].maximize ? " (max)" : " (min)")) + "</text>\n";
  std::string subtitle = std::to_string(rows.size()) + " plans, " + std::to_string(ok) + " feasible, " +
                         std::to_string(front.size()) + " on the front";
  std::string notes;  // the second subtitle line
  if (spec.objectives.size() > 2) {
    subtitle += " (front on all " + std::to_string(spec.objectives.size()) + " objectives, drawn on the first two)";
  }
  if (!spec.constraints.empty()) {
    subtitle += "; " + std::to_string(violating) + " missing a constraint (grey crosses)";
  }
  if (missing > 0) notes += std::to_string(missing) + " without a value, not drawn";

  const double plot_w = kWidth - kLeft - kRight, plot_h = kHeight - kTop - kBottom;
  if (plotted.empty()) {
    svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"44\" fill=\"#555\">" + svg_escape(subtitle) + "</text>\n";
    if (!notes.empty()) svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"60\" fill=\"#555\">" + svg_escape(notes) + "</text>\n";
    svg += "<rect x=\"" + svg_px(kLeft) + "\" y=\"" + svg_px(kTop) + "\" width=\"" + svg_px(plot_w) + "\" height=\"" +
           svg_px(plot_h) + "\" fill=\"none\" stroke=\"#999\"/>\n";
    svg += "<text x=\"" + svg_px(kLeft + plot_w / 2) + "\" y=\"" + svg_px(kTop + plot_h / 2) +
           "\" text-anchor=\"middle\" fill=\"#555\">no feasible plan to draw</text>\n</svg>\n";
    return svg;
  }

  // Axis ranges: what matters (front, plans within the constraints, bounds), not the outliers.
  std::vector<double> core_x, core_y;
  const bool any_meeting = std::any_of(plotted.begin(), plotted.end(), [&](std::size_t i) { return rows[i].violated.empty(); });
  if (!any_meeting) {
    core_x = middle_ninety(xs);
    core_y = middle_ninety(ys);
  }
  for (std::size_t p = 0; p < plotted.size(); ++p) {
    if (on_front.count(plotted[p]) > 0 || rows[plotted[p]].violated.empty()) {
      core_x.push_back(xs[p]);
      core_y.push_back(ys[p]);
    }
  }
  std::vector<std::pair<std::string, double>> x_lines, y_lines;  // constraint bounds on the plotted metrics
  for (const auto& constraint : spec.constraints) {
    if (constraint.metric == y_objective.metric) y_lines.emplace_back(constraint.metric + " " + constraint.text, constraint.bound);
    if (!by_index && constraint.metric == spec.objectives[1].metric) {
      x_lines.emplace_back(constraint.metric + " " + constraint.text, constraint.bound);
    }
  }
  for (const auto& [text, bound] : x_lines) core_x.push_back(bound);
  for (const auto& [text, bound] : y_lines) core_y.push_back(bound);
  const auto [x_lo, x_hi] = by_index ? std::make_pair(*std::min_element(xs.begin(), xs.end()),
                                                      *std::max_element(xs.begin(), xs.end()))
                                     : shown_range(xs, core_x);
  const auto [y_lo, y_hi] = shown_range(ys, core_y);
  std::vector<double> x_range{x_lo, x_hi}, y_range{y_lo, y_hi};
  for (const auto& [text, bound] : x_lines) x_range.push_back(bound);
  for (const auto& [text, bound] : y_lines) y_range.push_back(bound);
  const SvgScale xs_scale = svg_scale(x_range), ys_scale = svg_scale(y_range);
  // Plans beyond a shown range sit in a band just outside the plot, on the side they left by.
  auto to_x = [&](double v) {
    if (v < xs_scale.lo) return kLeft - kBand;
    if (v > xs_scale.hi) return kLeft + plot_w + kBand;
    return kLeft + xs_scale.fraction(v) * plot_w;
  };
  auto to_y = [&](double v) {
    if (v < ys_scale.lo) return kTop + plot_h + kBand;
    if (v > ys_scale.hi) return kTop - kBand;
    return kTop + (1.0 - ys_scale.fraction(v)) * plot_h;
  };
  std::size_t clipped = 0;
  for (std::size_t p = 0; p < plotted.size(); ++p) {
    if (xs[p] < xs_scale.lo || xs[p] > xs_scale.hi || ys[p] < ys_scale.lo || ys[p] > ys_scale.hi) ++clipped;
  }
  if (clipped > 0) {
    notes += (notes.empty() ? "" : "; ") + std::to_string(clipped) +
             " beyond the axes (far from the front and the constraints), drawn in the shaded band outside";
  }

  // Colour by hardware (legend on the right).
  std::map<std::string, std::size_t> colour_of;
  std::vector<std::string> hardware(plotted.size());
  for (std::size_t p = 0; p < plotted.size(); ++p) {
    hardware[p] = plan_hardware_label(spec, rows[plotted[p]].index);
    colour_of.emplace(hardware[p], 0);
  }
  {
    std::size_t k = 0;
    for (auto& [name, colour] : colour_of) colour = k++ % kColours;
  }

  svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"44\" fill=\"#555\">" + svg_escape(subtitle) + "</text>\n";
  if (!notes.empty()) svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"60\" fill=\"#555\">" + svg_escape(notes) + "</text>\n";
  svg += "<rect x=\"" + svg_px(kLeft) + "\" y=\"" + svg_px(kTop) + "\" width=\"" + svg_px(plot_w) + "\" height=\"" +
         svg_px(plot_h) + "\" fill=\"none\" stroke=\"#999\"/>\n";
  if (clipped > 0) {  // the bands, shaded: values there are off the scale
    svg += "<g fill=\"#f1f3f5\"><rect x=\"" + svg_px(kLeft - 2 * kBand) + "\" y=\"" + svg_px(kTop - 2 * kBand) +
           "\" width=\"" + svg_px(plot_w + 4 * kBand) + "\" height=\"" + svg_px(kBand * 1.5) + "\"/><rect x=\"" +
           svg_px(kLeft - 2 * kBand) + "\" y=\"" + svg_px(kTop + plot_h + kBand * 0.5) + "\" width=\"" +
           svg_px(plot_w + 4 * kBand) + "\" height=\"" + svg_px(kBand * 1.5) + "\"/><rect x=\"" +
           svg_px(kLeft - 2 * kBand) + "\" y=\"" + svg_px(kTop) + "\" width=\"" + svg_px(kBand * 1.5) + "\" height=\"" +
           svg_px(plot_h) + "\"/><rect x=\"" + svg_px(kLeft + plot_w + kBand * 0.5) + "\" y=\"" + svg_px(kTop) +
           "\" width=\"" + svg_px(kBand * 1.5) + "\" height=\"" + svg_px(plot_h) + "\"/></g>\n";
  }
  for (double t : xs_scale.ticks) {
    const std::string x = svg_px(kLeft + xs_scale.fraction(t) * plot_w);
    svg += "<line x1=\"" + x + "\" y1=\"" + svg_px(kTop) + "\" x2=\"" + x + "\" y2=\"" + svg_px(kTop + plot_h) +
           "\" stroke=\"#eee\"/>\n";
    svg += "<text x=\"" + x + "\" y=\"" + svg_px(kTop + plot_h + 16 + (clipped > 0 ? kBand * 1.5 : 0.0)) +
           "\" text-anchor=\"middle\">" + svg_number(t) + "</text>\n";
  }
  for (double t : ys_scale.ticks) {
    const double yv = kTop + (1.0 - ys_scale.fraction(t)) * plot_h;
    const std::string y = svg_px(yv);
    svg += "<line x1=\"" + svg_px(kLeft) + "\" y1=\"" + y + "\" x2=\"" + svg_px(kLeft + plot_w) + "\" y2=\"" + y +
           "\" stroke=\"#eee\"/>\n";
    svg += "<text x=\"" + svg_px(kLeft - 6 - (clipped > 0 ? kBand * 1.5 : 0.0)) + "\" y=\"" + svg_px(yv + 4) +
           "\" text-anchor=\"end\">" + svg_number(t) + "</text>\n";
  }
  svg += "<text x=\"" + svg_px(kLeft + plot_w / 2) + "\" y=\"" + svg_px(kHeight - 12) + "\" text-anchor=\"middle\">" +
         svg_escape(x_name) + (xs_scale.log ? " (log scale)" : "") + "</text>\n";
  svg += "<text transform=\"translate(18 " + svg_px(kTop + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         svg_escape(y_objective.metric) + (ys_scale.log ? " (log scale)" : "") + "</text>\n";
  // Constraint bounds: dashed lines, the feasible side left unshaded.
  for (const auto& [text, bound] : x_lines) {
    const std::string x = svg_px(kLeft + xs_scale.fraction(bound) * plot_w);
    svg += "<g class=\"constraint\"><line x1=\"" + x + "\" y1=\"" + svg_px(kTop) + "\" x2=\"" + x + "\" y2=\"" +
           svg_px(kTop + plot_h) + "\" stroke=\"#c92a2a\" stroke-dasharray=\"6 4\"/><text x=\"" + x + "\" y=\"" +
           svg_px(kTop + 12) + "\" fill=\"#c92a2a\" transform=\"rotate(-90 " + x + " " + svg_px(kTop + 12) +
           ")\" text-anchor=\"end\" dy=\"-4\">" + svg_escape(text) + "</text></g>\n";
  }
  for (const auto& [text, bound] : y_lines) {
    const std::string y = svg_px(kTop + (1.0 - ys_scale.fraction(bound)) * plot_h);
    svg += "<g class=\"constraint\"><line x1=\"" + svg_px(kLeft) + "\" y1=\"" + y + "\" x2=\"" + svg_px(kLeft + plot_w) +
           "\" y2=\"" + y + "\" stroke=\"#c92a2a\" stroke-dasharray=\"6 4\"/><text x=\"" + svg_px(kLeft + plot_w - 4) +
           "\" y=\"" + y + "\" dy=\"-4\" fill=\"#c92a2a\" text-anchor=\"end\">" + svg_escape(text) + "</text></g>\n";
  }

  // Marks: crosses (missing a constraint), hollow circles (dominated), then the front on top.
  std::vector<Box> placed;  // label boxes and front markers labels must not cover
  std::size_t front_drawn = 0, unlabelled = 0;
  std::map<std::string, std::size_t> same_spot;  // front plans per drawn position
  std::set<std::string> labelled_spot;
  for (const auto& [text, bound] : y_lines) {  // the constraint lines' labels (right end, above the line)
    const double y = kTop + (1.0 - ys_scale.fraction(bound)) * plot_h, w = kCharWidth * static_cast<double>(text.size());
    placed.push_back(Box{kLeft + plot_w - 4.0 - w, y - 4.0 - kLineHeight + 3.0, kLeft + plot_w - 4.0, y - 1.0});
  }
  for (const auto& [text, bound] : x_lines) {  // (top end, left of the line, written upwards)
    const double x = kLeft + xs_scale.fraction(bound) * plot_w, w = kCharWidth * static_cast<double>(text.size());
    placed.push_back(Box{x - kLineHeight, kTop + 12.0, x, kTop + 12.0 + w});
  }
  for (std::size_t p = 0; p < plotted.size(); ++p) {
    if (on_front.count(plotted[p]) == 0) continue;
    const double x = to_x(xs[p]), y = to_y(ys[p]);
    placed.push_back(Box{x - 5.5, y - 5.5, x + 5.5, y + 5.5});
    ++same_spot[svg_px(x) + "," + svg_px(y)];
  }
  for (int pass = 0; pass < 3; ++pass) {
    for (std::size_t p = 0; p < plotted.size(); ++p) {
      const SweepRow& row = rows[plotted[p]];
      const bool front_plan = on_front.count(plotted[p]) > 0;
      const int kind = front_plan ? 2 : (row.violated.empty() ? 1 : 0);
      if (kind != pass) continue;
      const double x = to_x(xs[p]), y = to_y(ys[p]);
      const std::string colour = kPalette[colour_of[hardware[p]]];
      const std::string title = "<title>" + tooltip(spec, row, hardware[p]) + "</title>";
      if (kind == 0) {
        svg += "<g class=\"violating\">" + title + "<path d=\"M" + svg_px(x - 3.5) + " " + svg_px(y - 3.5) + "L" +
               svg_px(x + 3.5) + " " + svg_px(y + 3.5) + "M" + svg_px(x - 3.5) + " " + svg_px(y + 3.5) + "L" +
               svg_px(x + 3.5) + " " + svg_px(y - 3.5) + "\" stroke=\"#adb5bd\"/></g>\n";
        continue;
      }
      if (kind == 1) {
        svg += "<g class=\"dominated\">" + title + "<circle cx=\"" + svg_px(x) + "\" cy=\"" + svg_px(y) +
               "\" r=\"4\" fill=\"none\" stroke=\"" + colour + "\" stroke-opacity=\"0.7\"/></g>\n";
        continue;
      }
      // A front plan: filled, outlined, labelled next to its point where a label fits without covering
      // another; front plans drawn on the same spot (equal results) share one label.
      const std::string spot = svg_px(x) + "," + svg_px(y);
      std::string label;
      ++front_drawn;
      if (labelled_spot.count(spot) == 0) {
        std::string text(1, '#');  // built by appends: GCC 12 warns (-Wrestrict) on "#" + std::string
        text += std::to_string(row.index);
        if (front.size() <= kFullLabels) {
          text += ' ';
          text += plan_label(spec, row.index);
        }
        if (same_spot[spot] > 1) text += " (+" + std::to_string(same_spot[spot] - 1) + " equal)";
        const double width = kCharWidth * static_cast<double>(text.size());
        // Right, left, above, below the point, then a line further up or down on either side.
        const double dx_right = 8.0, dx_left = -8.0 - width, dx_mid = -width / 2.0;
        const std::pair<double, double> spots[] = {{dx_right, 4.0},  {dx_left, 4.0},  {dx_mid, -9.0},
                                                   {dx_mid, 18.0},   {dx_right, -10.0}, {dx_left, -10.0},
                                                   {dx_right, 18.0}, {dx_left, 18.0}};
        for (const auto& [dx, dy] : spots) {
          const double x0 = x + dx, baseline = y + dy;
          const Box box{x0, baseline - kLineHeight + 3.0, x0 + width, baseline + 3.0};
          if (x0 < 0.0 || x0 + width > kWidth - kRight + 8.0 || box.y0 < kTop - 2 * kBand || box.y1 > kHeight - 24.0) {
            continue;
          }
          if (std::any_of(placed.begin(), placed.end(), [&](const Box& b) { return b.overlaps(box); })) continue;
          placed.push_back(box);
          label = "<text x=\"" + svg_px(x0) + "\" y=\"" + svg_px(baseline) +
                  "\" fill=\"#212529\" stroke=\"white\" stroke-width=\"3\" paint-order=\"stroke\">" + svg_escape(text) +
                  "</text>";
          break;
        }
        labelled_spot.insert(spot);
        if (label.empty()) unlabelled += same_spot[spot];
      }
      svg += "<g class=\"front\">" + title + "<circle cx=\"" + svg_px(x) + "\" cy=\"" + svg_px(y) + "\" r=\"5.5\" fill=\"" +
             colour + "\" stroke=\"#212529\"/>" + label + "</g>\n";
    }
  }
  if (unlabelled > 0) {
    svg += "<text x=\"" + svg_px(kLeft) + "\" y=\"" + svg_px(kHeight - 28) + "\" fill=\"#555\" font-size=\"11\">" +
           std::to_string(unlabelled) + " of " + std::to_string(front_drawn) +
           " front plans unlabelled where a label would overlap (tooltips and pareto.csv name them)</text>\n";
  }
  // Legend: one swatch per hardware, and the marks.
  double ly = kTop + 6.0;
  const double lx = kWidth - kRight + 30.0;
  svg += "<g class=\"legend\">\n";
  for (const auto& [name, colour] : colour_of) {
    std::string shown = name.size() > 24 ? name.substr(0, 21) + "..." : name;
    svg += "<rect x=\"" + svg_px(lx) + "\" y=\"" + svg_px(ly) + "\" width=\"10\" height=\"10\" fill=\"" +
           kPalette[colour] + "\"/><text x=\"" + svg_px(lx + 16) + "\" y=\"" + svg_px(ly + 9) + "\">" +
           svg_escape(shown) + "</text>\n";
    ly += 18.0;
  }
  ly += 8.0;
  for (const char* line : {"filled: on the front", "hollow: dominated", "x: misses a constraint"}) {
    svg += "<text x=\"" + svg_px(lx) + "\" y=\"" + svg_px(ly + 9) + "\" fill=\"#555\">" + std::string(line) + "</text>\n";
    ly += 16.0;
  }
  svg += "</g>\n</svg>\n";
  return svg;
}

}  // namespace servesim

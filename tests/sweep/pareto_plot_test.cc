// Claims about pareto.svg on hand-built sweeps: which plans are drawn and how,
// axis scales, escaping, and the messages for missing values and no plans.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tools/report/pareto_plot.h"

namespace servesim {
namespace {

std::size_t column(const std::string& metric) {
  const auto& names = sweep_metric_names();
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), metric) - names.begin());
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// One axis ("/hardware") with one value per plan; objectives max tokens/s/GPU, min TTFT p99.
SweepSpec spec_with(const std::vector<std::string>& values) {
  SweepSpec spec;
  SweepAxis axis;
  axis.pointer = "/hardware";
  for (const std::string& v : values) axis.values.emplace_back(v);
  spec.axes.push_back(axis);
  spec.objectives = {{"output_tokens_per_s_per_gpu", true}, {"ttft_p99_s", false}};
  return spec;
}

SweepRow row(std::size_t index, double tokens_per_gpu, double ttft_p99) {
  SweepRow r;
  r.index = index;
  r.status = "ok";
  r.gpus = 1;
  r.metrics.assign(sweep_metric_names().size(), 1.0);
  r.metrics[column("output_tokens_per_s_per_gpu")] = tokens_per_gpu;
  r.metrics[column("ttft_p99_s")] = ttft_p99;
  return r;
}

// Four feasible plans, two on the front, one infeasible: two filled front points
// with labels, two hollow ones, and the counts in the subtitle.
TEST(ParetoPlot, FrontPlansAreFilledAndLabelledTheOthersHollow) {
  const SweepSpec spec = spec_with({"h100-sxm", "h200-sxm", "b200", "a100-sxm-80gb", "gh200"});
  std::vector<SweepRow> rows = {row(0, 300, 2.0), row(1, 200, 3.0), row(2, 500, 4.0), row(3, 100, 5.0), row(4, 0, 0)};
  rows[4].status = "infeasible";
  const std::string svg = pareto_svg(spec, rows, {0, 2});
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(count(svg, "<g class=\"front\">"), 2u);
  EXPECT_EQ(count(svg, "<g class=\"dominated\">"), 2u);
  EXPECT_NE(svg.find(">#0 h100-sxm</text>"), std::string::npos);
  EXPECT_NE(svg.find(">#2 b200</text>"), std::string::npos);
  EXPECT_NE(svg.find("5 plans, 4 feasible, 2 on the front"), std::string::npos);
  EXPECT_EQ(svg.find("gh200"), std::string::npos);  // infeasible: not drawn
  EXPECT_EQ(svg, pareto_svg(spec, rows, {0, 2}));   // same rows, same bytes
}

// Axis values and tooltips are XML-escaped.
TEST(ParetoPlot, TextIsEscaped) {
  const SweepSpec spec = spec_with({"a<b&\"c\">"});
  const std::string svg = pareto_svg(spec, {row(0, 100, 1.0)}, {0});
  EXPECT_NE(svg.find("#0 a&lt;b&amp;&quot;c&quot;&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("a<b"), std::string::npos);
}

// TTFT p99 spanning 0.1-10 s (100x >= kLogSpan) is drawn on a log scale with
// decade ticks; tokens/s from 100 to 300 (3x) linearly.
TEST(ParetoPlot, WideAllPositiveRangesAreLogarithmic) {
  const SweepSpec spec = spec_with({"x", "y", "z"});
  const std::string svg = pareto_svg(spec, {row(0, 100, 0.1), row(1, 200, 1.0), row(2, 300, 10.0)}, {0, 1, 2});
  EXPECT_NE(svg.find(">ttft_p99_s (log scale)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">output_tokens_per_s_per_gpu</text>"), std::string::npos);
  for (const char* tick : {">0.1</text>", ">1</text>", ">10</text>"}) EXPECT_NE(svg.find(tick), std::string::npos);
}

// A plan without a value on a plotted objective is counted, not drawn.
TEST(ParetoPlot, PlansWithoutAValueAreCountedNotDrawn) {
  const SweepSpec spec = spec_with({"x", "y"});
  const std::string svg =
      pareto_svg(spec, {row(0, 100, 1.0), row(1, 200, std::numeric_limits<double>::quiet_NaN())}, {0});
  EXPECT_NE(svg.find("1 without a value, not drawn"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 1u);
}

TEST(ParetoPlot, NoFeasiblePlanSaysSo) {
  const SweepSpec spec = spec_with({"x"});
  SweepRow r = row(0, 1, 1);
  r.status = "infeasible";
  const std::string svg = pareto_svg(spec, {r}, {});
  EXPECT_NE(svg.find("no feasible plan to draw"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 0u);
}

// Three objectives: the subtitle says the front is on all three; one objective:
// the x axis is the plan index.
TEST(ParetoPlot, SubtitleAndXAxisFollowTheNumberOfObjectives) {
  SweepSpec spec = spec_with({"x", "y"});
  spec.objectives.push_back({"tpot_p99_s", false});
  const std::vector<SweepRow> rows = {row(0, 100, 1.0), row(1, 200, 2.0)};
  EXPECT_NE(pareto_svg(spec, rows, {0, 1}).find("(front on all 3 objectives, drawn on the first two)"),
            std::string::npos);
  spec.objectives.resize(1);
  EXPECT_NE(pareto_svg(spec, rows, {1}).find("vs plan index</text>"), std::string::npos);
}


// The label boxes (estimated as the plot places them: 6.6 px a character, 14 px a line) of the
// front's <text> elements.
struct LabelBox {
  double x0, y0, x1, y1;
};
std::vector<LabelBox> front_labels(const std::string& svg) {
  std::vector<LabelBox> boxes;
  for (std::size_t at = svg.find("<g class=\"front\">"); at != std::string::npos;
       at = svg.find("<g class=\"front\">", at + 1)) {
    const std::size_t end = svg.find("</g>", at);
    const std::size_t text = svg.find("<text x=\"", at);
    if (text == std::string::npos || text > end) continue;
    const double x = std::stod(svg.substr(text + 9));
    const std::size_t y_at = svg.find("y=\"", text) + 3;
    const double y = std::stod(svg.substr(y_at));
    const std::size_t open = svg.find('>', y_at) + 1;
    const std::size_t chars = svg.find("</text>", open) - open;
    boxes.push_back({x, y - 11.0, x + 6.6 * static_cast<double>(chars), y + 3.0});
  }
  return boxes;
}

// 1,000 plans on a grid of throughput x latency with a 10 % front: every plan drawn, only front
// plans labelled, and no two labels overlap.
TEST(ParetoPlot, AThousandPlansLabelOnlyTheFrontAndNoLabelsOverlap) {
  std::vector<std::string> names;
  const std::vector<std::string> hardware = {"h0", "h1", "h2", "h3", "h4"};
  for (int i = 0; i < 1000; ++i) names.push_back(hardware[static_cast<std::size_t>(i % 5)]);
  const SweepSpec spec = spec_with(names);
  std::vector<SweepRow> rows;
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < 1000; ++i) {
    const double t = static_cast<double>(i % 100), k = static_cast<double>(i / 100);
    rows.push_back(row(i, 100.0 + 10.0 * t + k, 0.05 * (1.0 + t) * (1.0 + 0.1 * k)));
    if (i / 100 == 0) front.push_back(i);  // the cheapest of each throughput level
  }
  const std::string svg = pareto_svg(spec, rows, front);
  EXPECT_EQ(count(svg, "<g class=\"front\">"), 100u);
  EXPECT_EQ(count(svg, "<g class=\"dominated\">"), 900u);
  const std::vector<LabelBox> boxes = front_labels(svg);
  EXPECT_GT(boxes.size(), 10u);
  for (std::size_t a = 0; a < boxes.size(); ++a) {
    for (std::size_t b = a + 1; b < boxes.size(); ++b) {
      const bool overlap = boxes[a].x0 < boxes[b].x1 && boxes[b].x0 < boxes[a].x1 && boxes[a].y0 < boxes[b].y1 &&
                           boxes[b].y0 < boxes[a].y1;
      EXPECT_FALSE(overlap) << "labels " << a << " and " << b;
    }
  }
  EXPECT_NE(svg.find(std::to_string(100 - boxes.size()) + " of 100 front plans unlabelled"), std::string::npos);
  // One colour per hardware, in the legend.
  for (const char* name : {">h0</text>", ">h4</text>"}) EXPECT_NE(svg.find(name), std::string::npos);
}

// Plans 10^4 times beyond the constraint do not stretch the axis: they sit in the band outside
// it, counted; the constraint is a dashed line.
TEST(ParetoPlot, OverloadedPlansAreDrawnBeyondTheAxisNotStretchingIt) {
  SweepSpec spec = spec_with({"a", "b", "c", "d", "e"});
  SweepConstraint constraint;
  constraint.metric = "ttft_p99_s";
  constraint.bound = 1.0;
  constraint.text = "<= 1 s";
  spec.constraints.push_back(constraint);
  std::vector<SweepRow> rows = {row(0, 300, 0.2), row(1, 200, 0.5), row(2, 250, 0.9), row(3, 400, 5000.0),
                                row(4, 500, 9000.0)};
  rows[3].violated = {"ttft_p99_s"};
  rows[4].violated = {"ttft_p99_s"};
  const std::string svg = pareto_svg(spec, rows, {0});
  EXPECT_NE(svg.find("2 beyond the axes"), std::string::npos);
  EXPECT_EQ(svg.find(">1000</text>"), std::string::npos);  // no tick near the outliers
  EXPECT_NE(svg.find("<g class=\"constraint\">"), std::string::npos);
  EXPECT_NE(svg.find("ttft_p99_s &lt;= 1 s"), std::string::npos);
  EXPECT_EQ(count(svg, "<g class=\"violating\">"), 2u);
}

}  // namespace
}  // namespace servesim

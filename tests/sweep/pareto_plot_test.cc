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

}  // namespace
}  // namespace servesim

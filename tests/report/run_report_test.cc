// Claims about report.html and its charts on hand-built run outputs: sections
// present or absent with the run's features, escaping, monotone CDF polylines,
// SLO markers, and the same bytes for the same inputs.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/report/run_report.h"
#include "tools/report/svg_chart.h"

namespace servesim {
namespace {

using Json = nlohmann::ordered_json;

Json summary() {
  Json latency = {{"mean", 0.2}, {"p50", 0.1}, {"p90", 0.4}, {"p95", 0.5}, {"p99", 0.9}};
  Json s;
  s["requests"] = {{"arrived", 10}, {"finished", 9}, {"rejected", 1}};
  for (const char* key : {"ttft_s", "tpot_s", "e2e_s", "itl_s", "queueing_s"}) s[key] = latency;
  s["throughput"] = {{"requests_per_s", 1.5}, {"output_tokens_per_s", 300.0}, {"output_tokens_per_s_per_gpu", 150.0}};
  s["energy"] = {{"total_j", 1000.0}, {"j_per_output_token", 0.5}};
  s["preemptions"] = 2;
  s["prefix_hit_rate"] = 0.25;
  s["kv_cache"] = {{"mean_utilization", 0.3}, {"peak_utilization", 0.8}};
  s["slo"] = {{"ttft_s", 0.5}, {"tpot_s", 0.05}, {"attainment", 0.9}, {"ttft_attainment", 0.95},
              {"tpot_attainment", 0.92}};
  s["simulated_s"] = 6.0;
  s["iterations"] = 100;
  s["wall_s"] = 0.123456;
  return s;
}

RunReportInputs inputs() {
  RunReportInputs in;
  in.config_name = "runs/<a&b>.json";
  in.config = {{"hardware", "h100-sxm"}, {"model", "llama-3.1-8b"}, {"plan", {{"tp", 1}}},
               {"workload", {{"generator", {{"impl", "poisson"}}}}}};
  in.summary = summary();
  for (int i = 0; i <= 10; ++i) in.distributions.ttft_s.push_back(0.05 * (i + 1));
  in.distributions.tpot_s = {0.01, 0.02, 0.03};
  in.distributions.kv_used = {{{0.0, 0.1}, {1.0, 0.5}, {2.0, 0.3}}};
  return in;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(RunReport, HasTheSetupTheNumbersAndOneChartPerDistributionAndForKvUse) {
  const std::string html = run_report_html(inputs());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("runs/&lt;a&amp;b&gt;.json"), std::string::npos);
  EXPECT_EQ(html.find("<a&b>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th>model</th><td>llama-3.1-8b</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th>TTFT</th><td>200.00 ms</td><td>100.00 ms</td><td>400.00 ms</td><td>900.00 ms</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("90.0 % (TTFT 95.0 %, TPOT 92.0 %)"), std::string::npos);
  EXPECT_EQ(count(html, "<svg "), 5u);  // TTFT, TPOT, E2E, queueing CDFs and KV use
  EXPECT_NE(html.find(">SLO 500.00 ms</text>"), std::string::npos);
  EXPECT_NE(html.find(">SLO 50.00 ms</text>"), std::string::npos);
  EXPECT_EQ(count(html, ">no data</text>"), 2u);  // E2E and queueing have no values here
  EXPECT_EQ(html.find("0.123456"), std::string::npos);  // the simulator's wall time is not shown
  EXPECT_EQ(html.find("Replicas"), std::string::npos);
  EXPECT_EQ(html.find("disaggregation</h2>"), std::string::npos);
  EXPECT_EQ(html, run_report_html(inputs()));
}

TEST(RunReport, ProvenanceSectionShowsBuildCommandAndEachGpusCalibration) {
  RunReportInputs in = inputs();
  EXPECT_EQ(run_report_html(in).find("<h2>Provenance</h2>"), std::string::npos);  // none in the summary
  in.summary["provenance"] = {
      {"servesim_version", "9.9.9"}, {"source_commit", ""}, {"source_uncommitted_changes", true},
      {"command", "servesim run <x>.json"},
      {"gpus", Json::array({{{"hardware", "h100-sxm"}, {"gpu", "H100"}, {"execution", "measured"},
                             {"calibration", "h100-sxm"}, {"power", "datasheet"}}})}};
  const std::string html = run_report_html(in);
  EXPECT_NE(html.find("<tr><th>servesim version</th><td>9.9.9</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<td>unknown (not built from a git checkout) + uncommitted changes</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>servesim run &lt;x&gt;.json</td>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>h100-sxm</td><td>H100</td><td>calibrated on measurements (h100-sxm)</td>"
                      "<td>datasheet (defaults scaled to the TDP)</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("datasheets only"), std::string::npos);
}

TEST(RunReport, ReplicaTableHasEveryColumnAnyReplicaHas) {
  RunReportInputs in = inputs();
  in.summary["replicas"] = Json::array({{{"replica", 0}, {"role", "prefill"}, {"handed_off", 7}},
                                        {{"replica", 1}, {"role", "decode"}, {"received", 7}}});
  in.summary["disaggregation"] = {{"kv_transfers", 7}};
  const std::string html = run_report_html(in);
  EXPECT_NE(html.find("<tr><th>replica</th><th>role</th><th>handed_off</th><th>received</th></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<tr><td>1</td><td>decode</td><td></td><td>7</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("Prefill/decode disaggregation</h2>"), std::string::npos);
}

// A CDF drawn as a polyline goes up (SVG y decreases) as x grows.
TEST(SvgChart, CdfPolylineIsMonotone) {
  SvgLineChartOptions options;
  options.y_from_zero_to_one = true;
  const std::string svg = svg_line_chart({SvgSeries{"cdf", {{1.0, 0.0}, {2.0, 0.5}, {4.0, 1.0}}}}, options);
  const std::size_t at = svg.find("points=\"") + 8;
  const std::string points = svg.substr(at, svg.find('"', at) - at);
  EXPECT_EQ(points, "70.0,310.0 253.3,175.0 620.0,40.0");  // x axis 1..4, y 0..1
}

TEST(SvgChart, ScalesAreLogForWidePositiveRangesAndLinearOtherwise) {
  const SvgScale wide = svg_scale({0.003, 2.0});
  EXPECT_TRUE(wide.log);
  EXPECT_DOUBLE_EQ(wide.lo, 0.001);
  EXPECT_DOUBLE_EQ(wide.hi, 10.0);
  EXPECT_EQ(wide.ticks, (std::vector<double>{0.001, 0.01, 0.1, 1.0, 10.0}));
  const SvgScale narrow = svg_scale({3.0, 17.0});
  EXPECT_FALSE(narrow.log);
  EXPECT_EQ(narrow.ticks, (std::vector<double>{0.0, 5.0, 10.0, 15.0, 20.0}));
  EXPECT_FALSE(svg_scale({0.003, 2.0}, false).log);
  EXPECT_FALSE(svg_scale({-1.0, 100.0}).log);
}

}  // namespace
}  // namespace servesim

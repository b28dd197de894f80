#include "tools/report/run_report.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/units.h"
#include "tools/report/provenance_html.h"
#include "tools/report/svg_chart.h"

namespace servesim {
namespace {

constexpr std::size_t kMaxKvSeries = 8;  // replicas drawn in the KV chart

using Json = nlohmann::ordered_json;

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %%", fraction * 100.0);
  return text;
}

std::string fixed(double value, const char* format) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

double number_at(const Json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0; }

// A config value as text: strings bare, objects and arrays as compact JSON.
std::string value_text(const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

std::string row(const std::string& name, const std::vector<std::string>& cells) {
  std::string html = "<tr><th>" + svg_escape(name) + "</th>";
  for (const std::string& cell : cells) html += "<td>" + svg_escape(cell) + "</td>";
  return html + "</tr>\n";
}

std::string latency_row(const std::string& name, const Json& d) {
  std::vector<std::string> cells;
  for (const char* key : {"mean", "p50", "p90", "p99"}) cells.push_back(format_seconds(number_at(d, key)));
  return row(name, cells);
}

// The CDF of `quantiles` (q = i / steps) as a chart, with the SLO target marked when there is one.
std::string cdf_chart(const std::string& title, const std::vector<double>& quantiles, double target_s) {
  SvgSeries series{title, {}};
  const double steps = static_cast<double>(quantiles.size() > 1 ? quantiles.size() - 1 : 1);
  for (std::size_t i = 0; i < quantiles.size(); ++i) {
    series.points.emplace_back(quantiles[i], static_cast<double>(i) / steps);
  }
  SvgLineChartOptions options;
  options.title = title + " (CDF over finished requests)";
  options.x_label = title + " (s)";
  options.y_label = "fraction of requests";
  options.y_from_zero_to_one = true;
  if (target_s > 0.0) options.x_markers.emplace_back(target_s, "SLO " + format_seconds(target_s));
  return svg_line_chart({series}, options);
}

std::string setup_table(const RunReportInputs& in) {
  std::string html = "<table>\n";
  for (const char* key : {"hardware", "model", "engine", "plan", "disaggregation", "router", "scheduler", "cache", "slo"}) {
    if (in.config.contains(key)) html += row(key, {value_text(in.config[key])});
  }
  if (in.config.contains("workload")) {
    const Json& w = in.config["workload"];
    if (w.contains("trace")) html += row("workload", {"trace " + value_text(w["trace"])});
    if (w.contains("generator")) html += row("workload", {"generator " + value_text(w["generator"])});
  }
  return html + "</table>\n";
}

std::string headline_table(const Json& s) {
  std::string html = "<table>\n<tr><th></th><th>mean</th><th>p50</th><th>p90</th><th>p99</th></tr>\n";
  html += latency_row("TTFT", s["ttft_s"]);
  html += latency_row("TPOT", s["tpot_s"]);
  html += latency_row("ITL", s["itl_s"]);
  html += latency_row("E2E", s["e2e_s"]);
  html += latency_row("queueing", s["queueing_s"]);
  html += "</table>\n<table>\n";
  const Json& r = s["requests"];
  html += row("requests", {fixed(number_at(r, "finished"), "%.0f") + " finished, " +
                               fixed(number_at(r, "rejected"), "%.0f") + " rejected of " +
                               fixed(number_at(r, "arrived"), "%.0f")});
  html += row("simulated", {format_seconds(number_at(s, "simulated_s")) + ", " +
                                fixed(number_at(s, "iterations"), "%.0f") + " iterations"});
  const Json& t = s["throughput"];
  html += row("throughput", {fixed(number_at(t, "requests_per_s"), "%.3g") + " req/s, " +
                                 fixed(number_at(t, "output_tokens_per_s"), "%.4g") + " output tok/s (" +
                                 fixed(number_at(t, "output_tokens_per_s_per_gpu"), "%.4g") + " per GPU)"});
  const Json& e = s["energy"];
  html += row("energy", {fixed(number_at(e, "total_j"), "%.4g") + " J, " +
                             fixed(number_at(e, "j_per_output_token"), "%.3g") + " J per output token"});
  if (s["slo"].contains("attainment")) {
    html += row("SLO attainment", {percent(number_at(s["slo"], "attainment")) + " (TTFT " +
                                       percent(number_at(s["slo"], "ttft_attainment")) + ", TPOT " +
                                       percent(number_at(s["slo"], "tpot_attainment")) + ")"});
  }
  const Json& kv = s["kv_cache"];
  html += row("KV cache", {percent(number_at(kv, "mean_utilization")) + " mean, " +
                               percent(number_at(kv, "peak_utilization")) + " peak use; prefix hit rate " +
                               percent(number_at(s, "prefix_hit_rate")) + "; " +
                               fixed(number_at(s, "preemptions"), "%.0f") + " preemptions"});
  return html + "</table>\n";
}

std::string replicas_table(const Json& replicas) {
  // Every key any replica has, in first-seen order (prefill and decode replicas differ).
  std::vector<std::string> columns;
  for (const Json& r : replicas) {
    for (const auto& [key, value] : r.items()) {
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
    }
  }
  std::string html = "<table>\n<tr>";
  for (const std::string& c : columns) html += "<th>" + svg_escape(c) + "</th>";
  html += "</tr>\n";
  for (const Json& r : replicas) {
    html += "<tr>";
    for (const std::string& c : columns) {
      const std::string cell = !r.contains(c)                ? ""
                               : r[c].is_number_float() ? fixed(r[c].get<double>(), "%.4g")
                                                        : value_text(r[c]);
      html += "<td>" + svg_escape(cell) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string object_table(const Json& object) {
  std::string html = "<table>\n";
  for (const auto& [key, value] : object.items()) {
    html += row(key, {value.is_number_float() ? fixed(value.get<double>(), "%.4g") : value_text(value)});
  }
  return html + "</table>\n";
}

// Where the numbers come from: build, command, and each GPU's calibration (summary.json "provenance").
std::string provenance_section(const Json& s) {
  if (!s.contains("provenance") || !s["provenance"].is_object()) return "";
  const Json& p = s["provenance"];
  std::string html = "<h2>Provenance</h2>\n<table>\n" + provenance_rows_html(p) + "</table>\n";
  if (!p.contains("gpus") || !p["gpus"].is_array()) return html;
  html += "<table>\n<tr><th>hardware</th><th>GPU</th><th>GPU efficiency</th><th>GPU power model</th></tr>\n";
  bool datasheet = false;
  for (const Json& gpu : p["gpus"]) {
    html += "<tr><td>" + svg_escape(gpu.value("hardware", "")) + "</td><td>" + svg_escape(gpu.value("gpu", "")) +
            "</td><td>" + svg_escape(gpu_efficiency_text(gpu)) + "</td><td>" + svg_escape(gpu_power_text(gpu)) +
            "</td></tr>\n";
    datasheet = datasheet || gpu.value("execution", "") != "measured" || gpu.value("power", "") != "measured";
  }
  html += "</table>\n";
  if (datasheet) {
    html += "<p>Numbers from datasheets only (no measured calibration) are less certain than measured ones.</p>\n";
  }
  return html;
}

}  // namespace

std::string run_report_html(const RunReportInputs& in) {
  const Json& s = in.summary;
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>servesim run: " +
      svg_escape(in.config_name) +
      "</title>\n<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:1340px}\n"
      "table{border-collapse:collapse;margin:8px 0 16px}\nth,td{border:1px solid #ddd;padding:3px 8px;"
      "text-align:left;font-size:13px;vertical-align:top}\nth{background:#f4f4f4}\n"
      "td{font-family:monospace;max-width:900px;overflow-wrap:anywhere}\n.charts svg{margin:4px}\n</style>\n"
      "</head>\n<body>\n<h1>servesim run report</h1>\n<p>" +
      svg_escape(in.config_name) + "</p>\n<h2>Deployment and workload</h2>\n" + setup_table(in) +
      provenance_section(s) + "<h2>Results</h2>\n" + headline_table(s);

  const Json slo = s.contains("slo") ? s["slo"] : Json::object();
  html += "<h2>Latency distributions</h2>\n<div class=\"charts\">\n";
  html += cdf_chart("TTFT", in.distributions.ttft_s, number_at(slo, "ttft_s"));
  html += cdf_chart("TPOT", in.distributions.tpot_s, number_at(slo, "tpot_s"));
  html += cdf_chart("E2E", in.distributions.e2e_s, 0.0);
  html += cdf_chart("queueing", in.distributions.queueing_s, 0.0);
  html += "</div>\n<h2>KV cache use</h2>\n<div class=\"charts\">\n";
  std::vector<SvgSeries> kv;
  for (std::size_t i = 0; i < in.distributions.kv_used.size() && i < kMaxKvSeries; ++i) {
    kv.push_back(SvgSeries{"replica " + std::to_string(i), in.distributions.kv_used[i]});
  }
  SvgLineChartOptions kv_options;
  kv_options.title = "KV blocks in use (fraction of the cache)";
  kv_options.x_label = "simulated time (s)";
  kv_options.y_label = "fraction in use";
  kv_options.x_log_allowed = false;
  kv_options.y_from_zero_to_one = true;
  html += svg_line_chart(kv, kv_options);
  html += "</div>\n";
  if (in.distributions.kv_used.size() > kMaxKvSeries) {
    html += "<p>The first " + std::to_string(kMaxKvSeries) + " of " +
            std::to_string(in.distributions.kv_used.size()) + " replicas are drawn; kv_utilization.csv has all.</p>\n";
  }
  if (s.contains("disaggregation")) html += "<h2>Prefill/decode disaggregation</h2>\n" + object_table(s["disaggregation"]);
  if (s.contains("offload")) html += "<h2>KV offload tier</h2>\n" + object_table(s["offload"]);
  if (s.contains("replicas") && !s["replicas"].empty()) html += "<h2>Replicas</h2>\n" + replicas_table(s["replicas"]);
  html += "<p>Every number comes from this run's summary.json, requests.csv and kv_utilization.csv.</p>\n"
          "</body>\n</html>\n";
  return html;
}

}  // namespace servesim

#include "tools/report/sweep_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "sim/config/provenance.h"
#include "sim/sweep/gpu_price.h"
#include "sim/core/units.h"
#include "tools/report/pareto_plot.h"
#include "tools/report/provenance_html.h"
#include "tools/report/svg_chart.h"

namespace servesim {
namespace {

using Json = nlohmann::ordered_json;

std::string esc(const std::string& text) { return svg_escape(text); }

// A metric as a table cell shows it: durations with units, counts bare, the rest to 4 digits.
std::string metric_text(const std::string& name, double value) {
  if (std::isnan(value)) return "";
  const bool seconds = name.size() > 2 && name.compare(name.size() - 2, 2, "_s") == 0 && name.find("_per_s") == std::string::npos;
  if (seconds) return format_seconds(value);
  char text[64];
  std::snprintf(text, sizeof text, name == "gpus" || name == "capacity_sims" ? "%.0f" : "%.4g", value);
  return text;
}

// A sortable cell: the text shown and, for numbers, the value sorted by.
std::string cell(const std::string& text, double value = std::nan("")) {
  if (std::isnan(value)) return "<td>" + esc(text) + "</td>";
  char sort_key[40];
  std::snprintf(sort_key, sizeof sort_key, "%.17g", value);
  return std::string("<td data-v=\"") + sort_key + "\">" + esc(text) + "</td>";
}

std::string header_row(const std::vector<std::string>& names) {
  std::string html = "<thead><tr>";
  for (const auto& name : names) html += "<th title=\"click to sort\">" + esc(name) + "</th>";
  return html + "</tr></thead>\n";
}

// The metrics a table shows: the objectives first, then the constraints' metrics, then the rest.
std::vector<std::string> table_metrics(const SweepSpec& spec) {
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const auto& objective : spec.objectives) add(objective.metric);
  for (const auto& constraint : spec.constraints) add(constraint.metric);
  add("gpus");
  for (const auto& name : sweep_metric_names()) add(name);
  return names;
}

}  // namespace

std::string sweep_report_html(const SweepReportInputs& in) {
  const SweepSpec& spec = *in.spec;
  const std::vector<SweepRow>& rows = *in.rows;
  const std::vector<std::size_t>& front = *in.front;
  const Json& resolved = in.resolved;

  // Hardware per plan, and each hardware's calibration (measured or datasheet only).
  std::vector<std::string> hardware(rows.size());
  std::map<std::string, Json> calibration;  // hardware name -> its gpu_calibrations entry (null: unknown entry)
  std::map<std::string, std::size_t> plans_on;     // hardware name -> plans that ran on it
  std::set<std::size_t> datasheet_plans;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::size_t index = rows[r].index;
    hardware[r] = plan_hardware_label(spec, index);
    for (const auto& node : plan_hardware(spec.config(index))) {
      if (node.is_null()) continue;
      const std::string name = hardware_name(node);
      if (calibration.count(name) == 0) {
        try {
          calibration[name] = gpu_calibrations({node}).at(0);
        } catch (const std::exception&) {
          calibration[name] = nullptr;  // an unknown entry: that plan is infeasible and says why
        }
      }
      if (rows[r].status == "ok") {
        ++plans_on[name];
        if (calibration[name].is_object() && calibration[name].at("execution") == "datasheet") {
          datasheet_plans.insert(index);
        }
      }
    }
  }
  std::size_t ok = 0, meeting = 0;
  for (const auto& row : rows) {
    ok += row.status == "ok" ? 1 : 0;
    meeting += row.status == "ok" && row.violated.empty() ? 1 : 0;
  }

  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>servesim sweep: " + esc(spec.file) +
      "</title>\n<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}\n"
      "table{border-collapse:collapse;margin:8px 0 16px}\nth,td{border:1px solid #ddd;padding:3px 8px;"
      "text-align:left;font-size:13px;vertical-align:top}\nth{background:#f4f4f4}\n"
      "table.sortable th{cursor:pointer}\ntable.sortable th:hover{background:#e9ecef}\n"
      "td{font-family:monospace;max-width:520px;overflow-wrap:anywhere}\ntd[data-v]{text-align:right}\n"
      ".note{color:#555}\n</style>\n</head>\n<body>\n<h1>servesim sweep report</h1>\n<p>" +
      esc(spec.file) + ": " + std::to_string(rows.size()) + " plans, " + std::to_string(ok) + " ran, " +
      (spec.constraints.empty() ? "" : std::to_string(meeting) + " meet the constraints, ") +
      std::to_string(front.size()) + " on the Pareto front.</p>\n";

  // Where the results come from.
  html += "<h2>Provenance and settings</h2>\n<table>\n";
  auto setting = [&](const std::string& name, const std::string& value) {
    html += "<tr><th>" + esc(name) + "</th><td>" + esc(value) + "</td></tr>\n";
  };
  html += provenance_rows_html(resolved.value("provenance", Json::object()));
  std::string goals;
  for (const auto& objective : spec.objectives) {
    goals += (goals.empty() ? "" : ", ") + std::string(objective.maximize ? "max " : "min ") + objective.metric;
  }
  setting("objectives", goals);
  if (!spec.constraints.empty()) {
    std::string text;
    for (const auto& constraint : spec.constraints) text += (text.empty() ? "" : ", ") + constraint.metric + " " + constraint.text;
    setting("constraints", text);
  }
  if (spec.capacity.enabled) {
    setting("capacity search", "precision " + metric_text("", spec.capacity.precision) + ", at most " +
                                   std::to_string(spec.capacity.max_sims) + " simulations per plan");
  }
  html += "</table>\n";

  // Hardware: calibration and price.
  html += "<h2>Hardware</h2>\n<table>\n<tr><th>hardware</th><th>plans run</th><th>GPU efficiency</th>"
          "<th>GPU power model</th><th>price (USD per GPU-hour)</th><th>price source</th></tr>\n";
  const Json prices = resolved.value("gpu_prices", Json::object());
  for (const auto& [name, calibrated] : calibration) {
    std::string price = "not priced", source;
    if (prices.contains(name) && prices[name].is_object()) {
      price = metric_text("", prices[name].value("usd_per_gpu_hour", std::nan("")));
      source = prices[name].value("source", "") + " (read " + prices[name].value("date", "") + "; given in " +
               prices[name].value("given_in", "") + ")";
    }
    html += "<tr><td>" + esc(name) + "</td><td>" + std::to_string(plans_on[name]) + "</td><td>" +
            esc(gpu_efficiency_text(calibrated)) + "</td><td>" + esc(gpu_power_text(calibrated)) + "</td><td>" + esc(price) +
            "</td><td>" + esc(source) + "</td></tr>\n";
  }
  html += "</table>\n";
  if (!datasheet_plans.empty()) {
    html += "<p class=\"note\">" + std::to_string(datasheet_plans.size()) +
            " plans ran on GPUs with datasheet numbers only (no measured calibration): their times are less "
            "certain; the tables mark them.</p>\n";
  }

  // The plot.
  html += "<h2>Pareto front</h2>\n" + pareto_svg(spec, rows, front);

  const std::vector<std::string> metrics = table_metrics(spec);
  auto plan_row = [&](std::size_t r, bool with_status) {
    const SweepRow& row = rows[r];
    const std::string dir = "runs/" + std::to_string(row.index) + "/";
    const std::string target = row.status == "ok" ? dir + (in.run_reports ? "report.html" : "summary.json") : dir + "plan.json";
    std::string tr = "<tr><td data-v=\"" + std::to_string(row.index) + "\"><a href=\"" + esc(target) + "\">#" +
                     std::to_string(row.index) + "</a></td>";
    const std::vector<std::size_t> at = spec.coordinates(row.index);
    for (std::size_t a = 0; a < spec.axes.size(); ++a) tr += cell(axis_value_text(spec.axes[a].values[at[a]]));
    tr += cell(hardware[r] + (datasheet_plans.count(row.index) > 0 ? " (datasheet only)" : ""));
    if (with_status) {
      tr += cell(row.status);
      std::string why = row.reason;
      if (!row.violated.empty()) {
        std::string names;
        for (const auto& name : row.violated) names += (names.empty() ? "" : " ") + name;
        why = "misses " + names + (why.empty() ? "" : "; " + why);
      }
      tr += cell(why);
    }
    for (const auto& name : metrics) {
      const double value = row_value(row, name);
      tr += cell(metric_text(name, value), std::isnan(value) ? -1e308 : value);
    }
    return tr + "</tr>\n";
  };
  std::vector<std::string> columns{"plan"};
  for (const auto& axis : spec.axes) columns.push_back(axis.pointer);
  columns.push_back("hardware");
  std::vector<std::string> all_columns = columns;
  all_columns.push_back("status");
  all_columns.push_back("why not on the front");
  for (const auto& name : metrics) {
    columns.push_back(name);
    all_columns.push_back(name);
  }

  html += "<h2>The front (" + std::to_string(front.size()) + " plans)</h2>\n<p class=\"note\">Click a column to sort; "
          "each plan links to its " + std::string(in.run_reports ? "run report" : "summary.json") + ".</p>\n";
  html += "<table class=\"sortable\">\n" + header_row(columns) + "<tbody>\n";
  for (std::size_t r : front) html += plan_row(r, false);
  html += "</tbody></table>\n";

  html += "<details><summary>All " + std::to_string(rows.size()) + " plans</summary>\n<table class=\"sortable\">\n" +
          header_row(all_columns) + "<tbody>\n";
  for (std::size_t r = 0; r < rows.size(); ++r) html += plan_row(r, true);
  html += "</tbody></table>\n</details>\n";

  // Sorting: numbers by data-v, text alphabetically; a second click reverses.
  html +=
      "<script>\n"
      "document.querySelectorAll('table.sortable').forEach(function(table){\n"
      "  table.querySelectorAll('th').forEach(function(th, col){\n"
      "    th.addEventListener('click', function(){\n"
      "      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);\n"
      "      var up = th.dataset.up !== '1'; th.dataset.up = up ? '1' : '0';\n"
      "      rows.sort(function(a, b){\n"
      "        var x = a.cells[col], y = b.cells[col];\n"
      "        var d = (x.dataset.v !== undefined && y.dataset.v !== undefined)\n"
      "          ? parseFloat(x.dataset.v) - parseFloat(y.dataset.v) : x.textContent.localeCompare(y.textContent);\n"
      "        return up ? d : -d;\n"
      "      });\n"
      "      rows.forEach(function(r){ body.appendChild(r); });\n"
      "    });\n"
      "  });\n"
      "});\n"
      "</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace servesim

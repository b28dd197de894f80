#include "tools/report/provenance_html.h"

#include "tools/report/svg_chart.h"

namespace servesim {

std::string provenance_rows_html(const nlohmann::ordered_json& provenance) {
  if (!provenance.is_object() || provenance.empty()) return "";
  std::string html;
  auto row = [&](const std::string& name, const std::string& value) {
    html += "<tr><th>" + svg_escape(name) + "</th><td>" + svg_escape(value) + "</td></tr>\n";
  };
  row("servesim version", provenance.value("servesim_version", ""));
  std::string commit = provenance.value("source_commit", "");
  if (commit.empty()) commit = "unknown (not built from a git checkout)";
  if (provenance.value("source_uncommitted_changes", false)) commit += " + uncommitted changes";
  row("source commit", commit);
  row("command", provenance.value("command", ""));
  return html;
}

std::string gpu_efficiency_text(const nlohmann::ordered_json& calibration) {
  if (!calibration.is_object()) return "unknown entry";
  if (calibration.value("execution", "") == "measured") {
    return "calibrated on measurements (" + calibration.value("calibration", "") + ")";
  }
  return "datasheet only (no measured calibration)";
}

std::string gpu_power_text(const nlohmann::ordered_json& calibration) {
  if (!calibration.is_object()) return "unknown entry";
  return calibration.value("power", "") == "measured" ? "measured (the calibration's power fit)"
                                                      : "datasheet (defaults scaled to the TDP)";
}

}  // namespace servesim

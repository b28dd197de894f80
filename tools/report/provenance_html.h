#pragma once
// Contract: how report.html pages (a run's, a sweep's) show provenance: the
// rows of version, source commit and command from a provenance block
// (sim/config/provenance.h), and the words for where a GPU's efficiency and
// power numbers come from, from one gpu_calibrations entry. Pure text.

#include <string>

#include <nlohmann/json.hpp>

namespace servesim {

/// <tr> rows (servesim version, source commit, command) of a table; nothing for an empty block.
std::string provenance_rows_html(const nlohmann::ordered_json& provenance);

/// "calibrated on measurements (NAME)", "datasheet only (no measured calibration)" or, for a null
/// entry (hardware that could not be read), "unknown entry". Not escaped.
std::string gpu_efficiency_text(const nlohmann::ordered_json& calibration);

/// "measured (the calibration's power fit)", "datasheet (defaults scaled to the TDP)" or "unknown entry".
std::string gpu_power_text(const nlohmann::ordered_json& calibration);

}  // namespace servesim

#pragma once
// Contract: where a sweep's results come from, for sweep.resolved.json: the
// servesim version, the source commit it was built from (looked up at build
// time; empty when the tree was not a git checkout, with a flag when it had
// uncommitted changes), and the command line. The command keeps only what
// changes results (the sweep file as given): --out, --jobs and --resume are
// left out, so a sweep gives the same file whatever directory, parallelism
// or interruption it ran with. Also: which hardware a plan runs on, and
// whether its GPU's efficiency is calibrated on measurements or datasheet only.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace servesim {

/// {"servesim_version", "source_commit", "source_uncommitted_changes", "command", "command_note"}.
nlohmann::ordered_json sweep_provenance(const std::string& sweep_path);

/// The hardware a plan's config runs on: its node, and each disaggregated pool's own (catalog names or
/// inline nodes), without repeats, in config order.
std::vector<nlohmann::json> plan_hardware(const nlohmann::ordered_json& config);

/// The GPU calibration `hardware` (a catalog name or an inline node) uses: its name, or "" when the
/// GPU has only datasheet numbers. Throws ConfigError for an unknown catalog name.
std::string hardware_calibration(const nlohmann::json& hardware);

}  // namespace servesim

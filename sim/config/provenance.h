#pragma once
// Contract: where a run's or a sweep's results come from, for summary.json
// ("provenance") and sweep.resolved.json: the servesim version, the source
// commit it was built from (looked up at build time; empty when the tree was
// not a git checkout, with a flag when it had uncommitted changes), and the
// command line, which keeps only what changes results (the config or sweep
// file as given): --out, --timeline, --report, --jobs and --resume are left
// out, so the same inputs give the same bytes whatever directory, parallelism
// or interruption they ran with. Also: which hardware a config runs on, and
// whether each GPU's numbers are measured or datasheet only — its execution
// efficiency (a named calibration) and its power model (the calibration's
// power fit, else defaults scaled to the TDP). Reads catalogs, never results.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace servesim {

/// {"servesim_version", "source_commit", "source_uncommitted_changes", "command", "command_note"}.
nlohmann::ordered_json build_provenance(const std::string& command, const std::string& command_note);

/// build_provenance of `servesim sweep SWEEP`.
nlohmann::ordered_json sweep_provenance(const std::string& sweep_path);

/// build_provenance of `servesim run CONFIG`, plus "gpus": gpu_calibrations of the run's hardware
/// (`resolved_config`: what config.resolved.json holds).
nlohmann::ordered_json run_provenance(const std::string& config_path, const nlohmann::ordered_json& resolved_config);

/// The hardware a plan's GPUs run on (catalog names or inline nodes): its node or, disaggregated, each
/// pool's own (the node's where a pool gives none), without repeats, in config order.
std::vector<nlohmann::json> plan_hardware(const nlohmann::ordered_json& config);

/// How a hardware entry is named in reports and prices: its catalog name, or "inline <GPU name>".
std::string hardware_name(const nlohmann::json& hardware);

/// Where one GPU's numbers come from.
struct GpuCalibration {
  std::string hardware;     // hardware_name
  std::string gpu;          // the GPU's own name ("H100-SXM5-80GB")
  std::string calibration;  // the execution calibration's name; "" = datasheet only
  bool power_measured = false;  // the calibration has a power fit (else datasheet defaults)
};

/// The calibration `hardware` (a catalog name or an inline node) uses. Throws ConfigError for an
/// unknown catalog name or a node that cannot be read.
GpuCalibration hardware_calibration(const nlohmann::json& hardware);

/// [{"hardware", "gpu", "execution": "measured" | "datasheet", "calibration" (when measured),
///   "power": "measured" | "datasheet"}] for each of `hardware` (plan_hardware order).
nlohmann::ordered_json gpu_calibrations(const std::vector<nlohmann::json>& hardware);

}  // namespace servesim

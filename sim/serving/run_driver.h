#pragma once
// Contract: the whole of one `servesim run`, minus the command line: reads a
// parsed run config (deployment and serving keys, unknown keys rejected),
// sizes the KV cache, builds each replica's scheduler, KV cache and execution
// model, simulates, and writes summary.json, requests.csv, config.resolved.json
// and kv_utilization.csv (and timeline.json, report.html) into the output directory,
// all staged and renamed into place together (sim/io/output_dir.h); a failed run leaves
// no files and an earlier run's files untouched, a successful one removes the
// earlier run's files it did not write. A config or trace that is one of the
// output files is refused. User mistakes and infeasible plans
// (weights do not fit, no room for one KV block, ...) throw ConfigError naming
// `name` and the JSON pointer. `servesim run` and every plan of `servesim sweep`
// go through here, so a sweep's runs are exactly what `run` gives. Starts one
// SimGrid engine: call it at most once per process.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/serving/serving_run.h"

namespace servesim {

struct RunOutcome;

struct RunOptions {
  std::string out_dir = "out";
  bool timeline = false;
  /// With timeline: write it gzip-compressed, as timeline.json.gz (Perfetto opens it as is).
  bool timeline_gzip = false;
  /// Fill RunOutcome::result.distributions (what report.html draws).
  bool distributions = false;
  /// Prefix of the progress lines on stderr (every few seconds of wall time); empty = none.
  std::string progress_label = "servesim run";
  /// When set, report.html (this function of the outcome) is written with the other files.
  std::function<std::string(const RunOutcome&)> report_html;
  /// When set, summary.json ends with "provenance": this function of the resolved config (what
  /// config.resolved.json holds): where the results come from (sim/config/provenance.h).
  std::function<nlohmann::ordered_json(const nlohmann::ordered_json& resolved_config)> provenance;
  /// Where wall_s in summary.json counts from.
  std::chrono::steady_clock::time_point wall_start = std::chrono::steady_clock::now();
};

struct RunOutcome {
  ServingResult result;  // result.summary is what summary.json holds (kv_budget and wall_s included)
  int64_t replicas = 1;
  int64_t gpus = 1;          // all GPUs of all replicas
  std::string router_impl;   // meaningful when replicas > 1
  nlohmann::ordered_json resolved_config;  // what config.resolved.json holds
  double wall_s = 0.0;
};

/// Every file a run may write into its output directory; a run removes those of an earlier run it does not write.
const std::vector<std::string>& run_output_names();

/// Runs `config` (named `name` in messages; relative trace paths are relative to `name`'s folder).
RunOutcome drive_run(std::shared_ptr<const nlohmann::json> config, const std::string& name,
                     const RunOptions& options);

}  // namespace servesim

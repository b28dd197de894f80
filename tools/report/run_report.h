#pragma once
// Contract: report.html for one `servesim run`: a self-contained page (inline
// CSS and SVG, no script, nothing fetched) with the deployment and workload as
// configured, the headline numbers of summary.json (latency percentiles,
// throughput, energy, SLO attainment, KV cache, preemptions), the CDFs of TTFT,
// TPOT and E2E (SLO targets marked), KV use over time per replica, and the
// per-replica and disaggregation tables when the run has them, and the run's
// provenance (build, command, each GPU's calibration) when summary.json has it. Built only from
// the run's outputs and the resolved config, never from wall-clock time, so
// the same run gives the same bytes.

#include <string>

#include <nlohmann/json.hpp>

#include "sim/serving/serving_run.h"

namespace servesim {

struct RunReportInputs {
  std::string config_name;           // as given on the command line
  nlohmann::ordered_json config;     // config.resolved.json
  nlohmann::ordered_json summary;    // summary.json (wall_s is not shown)
  ServingDistributions distributions;
};

std::string run_report_html(const RunReportInputs& inputs);

}  // namespace servesim

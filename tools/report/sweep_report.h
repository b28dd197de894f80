#pragma once
// Contract: report.html for one `servesim sweep --report`: a self-contained
// page (inline CSS, SVG and a few lines of script that sort tables; nothing
// fetched) with where the results come from (version, source commit, command,
// objectives, constraints, capacity settings), the hardware the plans ran on
// with each GPU's calibration (measured, or datasheet only, and which plans
// that concerns) and price (with source and date, or "not priced"), the front
// and the plans within the constraints drawn as pareto.svg draws them
// (readable at 1,000 plans), a sortable table of the front linking each plan's
// run report (runs/<i>/report.html when the plans wrote one, else its
// summary.json), and a sortable table of every plan, folded. Built only from
// the sweep's rows and sweep.resolved.json, never from wall-clock time: the
// same sweep gives the same bytes.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"

namespace servesim {

struct SweepReportInputs {
  const SweepSpec* spec = nullptr;
  const std::vector<SweepRow>* rows = nullptr;
  const std::vector<std::size_t>* front = nullptr;
  nlohmann::ordered_json resolved;  // sweep.resolved.json (provenance, gpu_prices)
  bool run_reports = false;         // runs/<i>/report.html exist
};

std::string sweep_report_html(const SweepReportInputs& inputs);

}  // namespace servesim

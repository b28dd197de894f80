#pragma once
// Contract: runs every plan of a sweep and tabulates them. Each simulation
// runs in its own forked child process (one SimGrid engine per process), at
// most `jobs` at a time, through drive_run, so runs/<index>/ under the output
// directory holds exactly what `servesim run` writes for that plan's config,
// plus plan.json (the plan's config, the settings its result depends on, its
// status and, with a capacity search, every rate tried). A plan is built in a
// hidden staging directory (runs/.<index>.partial) and renamed into
// runs/<index> in one step once all its simulations are done, so runs/<index>
// is always a complete result or absent (or an earlier sweep's complete
// result). With `resume`, a runs/<index> whose plan.json matches the plan is
// kept and not simulated again; hidden staging left by an interrupted sweep is
// removed. A plan whose config is invalid or infeasible (ConfigError in the
// child: weights do not fit, TP does not divide the heads, a bad axis value,
// ...) is a row with status "infeasible" and the child's one-line message as
// reason; an internal error or a crash in the child is status "error". With a
// capacity search, a plan that ran then simulates other rates (temporary
// runs/.<index>.probe, removed after reading) as sim/sweep/capacity_search.h
// proposes them. Rows come back in plan order and are read from the committed
// files (plan.json, summary.json), so every output is the same whatever `jobs`
// is, whatever order children finish in and whether the sweep was resumed.
// Children die with the parent (PR_SET_PDEATHSIG: SIGTERM, whose handler
// removes their partial files), so an interrupted or killed sweep leaves no
// process writing on, only hidden staging that the next run removes. The
// calling process must not have started a SimGrid engine. After the runs,
// evaluate_rows adds what the parent computes from each run's files: the
// plan's cost (GPUs of each pool x its GPU's on-demand price,
// sim/sweep/gpu_price.h) and the constraints it violates.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/serving/run_driver.h"
#include "sim/sweep/gpu_price.h"
#include "sim/sweep/sweep_spec.h"

namespace servesim {

struct SweepRow {
  std::size_t index = 0;
  std::string status;           // "ok", "infeasible" or "error"
  std::string reason;           // one line; empty when ok
  int64_t gpus = 0;             // all GPUs of the plan; 0 when it did not run
  std::vector<double> metrics;  // in sweep_metric_names() order; NaN = not available
  std::vector<std::string> violated;  // the constraints the plan misses ("ttft_p99_s", ...), in spec order
  std::vector<std::string> unpriced;  // hardware of the plan without a GPU price (cost metrics NaN)
  /// Hardware of the plan whose GPU power model runs on datasheet defaults (the H200 power fit scaled
  /// to the TDP) rather than a measured fit: sweep.csv's datasheet_power column; empty when not ok.
  std::vector<std::string> datasheet_power;
  /// Output tokens per second at the capacity search's max rate (NaN without one): what
  /// max_rate_cost_per_million_output_tokens prices.
  double max_rate_output_tokens_per_s = std::numeric_limits<double>::quiet_NaN();
};

struct SweepRunOptions {
  std::string out_dir;  // runs go to out_dir/runs/<index>
  int jobs = 1;         // children (simulations) at a time
  bool resume = false;  // keep runs/<index> whose plan.json matches the plan
  /// The sweep's provenance (sim/config/provenance.h): when set, each run's summary.json ends with it,
  /// plus "plan" (the index) and "gpus" (the plan's GPU calibrations).
  nlohmann::ordered_json provenance;
  /// When set, each plan's own run also writes runs/<index>/report.html (this function of its outcome).
  std::function<std::string(const RunOutcome&)> run_report_html;
  /// Called in the parent as each plan finishes (completion order), with how many are done.
  std::function<void(std::size_t done, std::size_t total, const SweepRow& row)> on_done;
  /// With `resume`: called once, before anything runs, with how many plans were kept.
  std::function<void(std::size_t kept, std::size_t total)> on_resumed;
};

/// Runs every plan (`prices` prices the cost constraints a capacity search checks); returns one row per
/// plan in plan order.
std::vector<SweepRow> run_sweep(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices);

/// The pieces of run_sweep, for running plans elsewhere (sweep_mpi.h). A sweep's plans as found in
/// the output directory: the settings plan.json records, a row for each plan kept (--resume), and
/// the plans still to run.
struct SweepPlans {
  nlohmann::ordered_json settings;
  std::vector<SweepRow> rows;     // kept plans' rows; the others default
  std::vector<std::size_t> todo;  // plan order
};
/// Creates runs/, removes an interrupted sweep's hidden staging, refuses foreign files in runs/<i>,
/// and finds the plans --resume keeps.
SweepPlans prepare_sweep(const SweepSpec& spec, const SweepRunOptions& options);
/// Runs the plans `todo` (as run_sweep does), calling `on_committed` as each runs/<i> is in place.
void run_plans(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
               const nlohmann::ordered_json& settings, const std::vector<std::size_t>& todo,
               const std::function<void(std::size_t index)>& on_committed);
/// The row of the plan committed in runs/<index> (from its plan.json and summary.json).
SweepRow load_plan_row(const SweepRunOptions& options, std::size_t index);
/// Renames a finished staging directory to `final_dir` in one step (replacing an earlier one).
void commit_plan_directory(const std::string& staging, const std::string& final_dir);
/// runs/.<index>.partial, where a plan is built before it is committed.
std::string plan_staging_dir(const SweepRunOptions& options, std::size_t index);

/// Removes runs/<i> of plans that did not run (status not ok: only their plan.json), and runs/ if it is
/// then empty: a sweep that is bad input leaves nothing behind.
void remove_failed_plans(const SweepRunOptions& options, const std::vector<SweepRow>& rows);

/// Removes runs/<i> left by an earlier, larger sweep into the same directory (i >= `plans`;
/// only directories that hold nothing but run outputs), so runs/ holds exactly this sweep.
void remove_stale_runs(const SweepRunOptions& options, std::size_t plans);

/// The sweep metrics of one run's summary.json (sweep_metric_names() order; NaN where absent, cost too).
std::vector<double> sweep_metrics(const nlohmann::json& summary, int64_t gpus);

/// A row's value of an objective or constraint metric ("gpus" or a sweep metric); NaN when absent.
double row_value(const SweepRow& row, const std::string& metric);

/// For every ok row: its cost from runs/<index>/config.resolved.json and summary.json (pools of
/// GPUs times their price; unpriced hardware listed, cost left NaN), then the constraints it misses.
void evaluate_rows(const SweepSpec& spec, const SweepRunOptions& options, PriceBook& prices,
                   std::vector<SweepRow>& rows);

/// Whether any objective or constraint is a cost metric (unpriced plans then cannot be on the front).
bool sweep_uses_cost(const SweepSpec& spec);

/// Rows whose status is ok, that meet every constraint and that no other such row dominates on the
/// spec's objectives (plan order).
std::vector<std::size_t> sweep_pareto(const SweepSpec& spec, const std::vector<SweepRow>& rows);

/// sweep.csv: header, then one line per row: index, each axis value, status, reason, gpus, metrics,
/// violated (the constraints missed, separated by spaces), datasheet_power (the plan's hardware whose
/// power coefficients are datasheet defaults, separated by spaces).
std::string sweep_csv(const SweepSpec& spec, const std::vector<SweepRow>& rows);
/// pareto.csv: the same columns for the rows at `front` (indices into rows).
std::string pareto_csv(const SweepSpec& spec, const std::vector<SweepRow>& rows,
                       const std::vector<std::size_t>& front);

/// An axis value as a CSV cell shows it: strings bare, anything else as JSON.
std::string axis_value_text(const nlohmann::ordered_json& value);

}  // namespace servesim

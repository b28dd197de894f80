// `servesim sweep SWEEP.json [--out DIR] [--jobs N]`: runs every combination of
// a base run config's axes (sim/sweep/sweep_spec.h for the file), each plan in
// its own child process, and writes sweep.csv (one row per plan, in plan
// order), pareto.csv (the non-dominated feasible plans), pareto.svg (their plot) and
// sweep.resolved.json into DIR, plus each plan's full run outputs in
// DIR/runs/<index>/. The sweep file is validated before anything is written.
// Infeasible plans are rows, not failures; the exit status is 1 only when a
// plan hit an internal error. Progress goes to stderr, the Pareto front to stdout.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sim/core/config_error.h"
#include "sim/io/output_dir.h"
#include "tools/report/pareto_plot.h"
#include "tools/report/run_report.h"
#include "tools/report/sweep_report.h"
#include "sim/config/provenance.h"
#include "sim/sweep/sweep_mpi.h"
#include "sim/sweep/sweep_runner.h"
#include "sim/sweep/sweep_spec.h"
#include "sim/core/units.h"
#include "tools/command.h"
#include "tools/command_line.h"

namespace servesim {
namespace {

std::string metric_text(const std::string& name, double value) {
  if (std::isnan(value)) return "-";
  if (name.size() > 2 && name.compare(name.size() - 2, 2, "_s") == 0 && name != "requests_per_s") {
    return format_seconds(value);
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

// The Pareto front as an aligned table: index, axis values, objective metrics.
void print_front(const SweepSpec& spec, const std::vector<SweepRow>& rows, const std::vector<std::size_t>& front) {
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header{"index"};
  for (const auto& axis : spec.axes) header.push_back(axis.pointer);
  for (const auto& objective : spec.objectives) header.push_back(objective.metric);
  table.push_back(header);
  for (std::size_t i : front) {
    const SweepRow& row = rows[i];
    std::vector<std::string> line{std::to_string(row.index)};
    const auto at = spec.coordinates(row.index);
    for (std::size_t k = 0; k < spec.axes.size(); ++k) line.push_back(axis_value_text(spec.axes[k].values[at[k]]));
    for (const auto& objective : spec.objectives) line.push_back(metric_text(objective.metric, row_value(row, objective.metric)));
    table.push_back(line);
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (const auto& line : table) {
    for (std::size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  for (const auto& line : table) {
    std::string text = " ";
    for (std::size_t c = 0; c < line.size(); ++c) {
      text += " " + line[c] + std::string(width[c] - line[c].size() + 1, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    std::printf("%s\n", text.c_str());
  }
}

int run_sweep_command(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  std::string sweep_path;
  std::string out_dir = "out";
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  bool resume = false;
  bool report = false;
  options.add_options()("sweep", po::value<std::string>(&sweep_path)->required(), "sweep file (JSON)")(
      "out", po::value<std::string>(&out_dir), "output directory (default: out)")(
      "jobs", po::value<int>(&jobs), "simulations at a time, each in its own process (default: CPUs)")(
      "resume", po::bool_switch(&resume),
      "keep the plans DIR/runs already holds for this sweep (an interrupted sweep); run the rest")(
      "report", po::bool_switch(&report),
      "also write report.html (front, constraints, hardware, sortable tables) and each plan's run report");
  po::positional_options_description positional;
  positional.add("sweep", 1);
  po::variables_map vars;
  if (!parse_command_line("sweep", "SWEEP.json [--out DIR] [--jobs N] [--resume] [--report]",
                          "Simulates every combination of a base run config's axes and finds the\n"
                          "Pareto-optimal plans. SWEEP.json: {\"base\": RUN CONFIG or path to one,\n"
                          "\"variants\": {NAME: {\"/json/pointer\": value or null, ...}, ...},\n"
                          "\"axes\": {\"/json/pointer\": [values...], ...}, \"objectives\": [{\"metric\",\n"
                          "\"goal\": \"min\"|\"max\"}, ...]}. A variant is a named set of changes made together\n"
                          "(null removes a key: co-located vs disaggregated plans in one sweep). Plans are\n"
                          "the cartesian product of the variants (slowest) and the axes in the order\n"
                          "given, the last axis fastest; plan i runs as `servesim run` would\n"
                          "into DIR/runs/i. Infeasible plans (bad value, does not fit) are reported, not\n"
                          "fatal; if every plan fails the same way, that is bad input (exit 2).\n"
                          "Writes sweep.csv, pareto.csv, pareto.svg (the feasible plans on the first two\n"
                          "objectives, the front highlighted) and sweep.resolved.json into DIR.\n"
                          "Objective metrics: gpus, requests_per_s, output_tokens_per_s_per_gpu,\n"
                          "goodput_requests_per_s_per_gpu, ttft_p50_s, ttft_p99_s, tpot_p50_s, tpot_p99_s,\n"
                          "j_per_output_token, slo_attainment, cost_per_hour (USD, on-demand GPU prices),\n"
                          "cost_per_million_output_tokens (default: max output_tokens_per_s_per_gpu,\n"
                          "min ttft_p99_s, min tpot_p99_s). \"constraints\": {METRIC: \"OP VALUE\"} (OP <=, <,\n"
                          ">=, >; durations and energies with units: \"<= 1 s\", else plain numbers):\n"
                          "plans missing one are named in sweep.csv's violated column and kept off the\n"
                          "front. \"prices\": {HARDWARE: {\"usd_per_gpu_hour\", \"date\", \"source\"}} overrides\n"
                          "the catalog's GPU prices. \"capacity\": {\"precision\": 0.05, \"max_sims\": 16} searches\n"
                          "each plan's highest request rate (generator rate or trace rate_scale) at which\n"
                          "the constraints hold: columns max_rate_req_s, max_rate_req_s_per_gpu,\n"
                          "max_goodput_requests_per_s_per_gpu, max_rate_cost_per_million_output_tokens\n"
                          "(objectives), max_rate_precision,\n"
                          "capacity_sims; every rate tried is in runs/i/plan.json. --resume keeps the\n"
                          "plans an interrupted sweep finished. Under `mpirun -np N` (when built with\n"
                          "MPI) rank 0 hands plans to ranks 1..N-1, one plan at a time each, and writes\n"
                          "the same outputs as a local sweep.",
                          options, positional, args, &vars)) {
    return 0;
  }
  if (jobs < 1) throw ConfigError::at("--jobs", "must be at least 1, got " + std::to_string(jobs));
  const auto wall_start = std::chrono::steady_clock::now();
  const SweepSpec spec = read_sweep_spec(sweep_path);
  const MpiWorld world = mpi_join();
  struct LeaveMpi {
    ~LeaveMpi() { mpi_leave(); }
  } leave_mpi;

  SweepRunOptions run_options;
  run_options.out_dir = out_dir;
  run_options.jobs = jobs;
  run_options.resume = resume;
  run_options.provenance = sweep_provenance(sweep_path);
  if (report) {
    const std::string name = spec.base_name;
    run_options.run_report_html = [name](const RunOutcome& outcome) {
      return run_report_html(RunReportInputs{name, outcome.resolved_config, outcome.result.summary,
                                             outcome.result.distributions});
    };
  }
  if (world.size > 1 && world.rank != 0) {  // a worker: plans from rank 0, results back; rank 0 writes DIR
    PriceBook worker_prices(spec.prices, spec.file);
    run_sweep_worker(spec, run_options, worker_prices, world);
    return 0;
  }
  OutputDir out(out_dir);
  run_options.on_done = [](std::size_t done, std::size_t total, const SweepRow& row) {
    std::fprintf(stderr, "servesim sweep: %zu/%zu done (plan %zu %s)\n", done, total, row.index, row.status.c_str());
  };
  run_options.on_resumed = [](std::size_t kept, std::size_t total) {
    std::fprintf(stderr, "servesim sweep: resuming: %zu of %zu plans already done, %zu to run\n", kept, total,
                 total - kept);
  };
  PriceBook prices(spec.prices, spec.file);
  std::vector<SweepRow> rows = world.size > 1 ? run_sweep_coordinator(spec, run_options, prices, world)
                                              : run_sweep(spec, run_options, prices);
  // Every plan failing with one and the same reason is a mistake in the base config
  // (or in every value of an axis), not a finding: bad input, nothing written.
  const bool all_same_failure =
      std::all_of(rows.begin(), rows.end(), [&](const SweepRow& row) {
        return row.status == "infeasible" && row.reason == rows.front().reason;
      });
  if (!rows.empty() && all_same_failure) {
    remove_failed_plans(run_options, rows);  // failed plans left only their plan.json
    std::fprintf(stderr, "servesim: error: %s (every plan of the sweep fails this way)\n", rows.front().reason.c_str());
    return 2;
  }
  evaluate_rows(spec, run_options, prices, rows);
  const std::vector<std::size_t> front = sweep_pareto(spec, rows);
  nlohmann::ordered_json resolved = spec.resolved();
  resolved["gpu_prices"] = prices.used();  // every price a cost metric used, with its source and date
  resolved["provenance"] = run_options.provenance;

  out.write("sweep.csv", sweep_csv(spec, rows));
  out.write("pareto.csv", pareto_csv(spec, rows, front));
  out.write("pareto.svg", pareto_svg(spec, rows, front));
  out.write("sweep.resolved.json", resolved.dump(2) + "\n");
  if (report) {
    out.write("report.html", sweep_report_html(SweepReportInputs{&spec, &rows, &front, resolved, true}));
  }
  // An earlier sweep's report.html goes when this one writes none.
  out.commit({"sweep.csv", "pareto.csv", "pareto.svg", "sweep.resolved.json", "report.html"});
  remove_stale_runs(run_options, rows.size());

  std::size_t ok = 0;
  std::size_t infeasible = 0;
  std::size_t errors = 0;
  std::size_t meeting = 0;
  std::set<std::string> unpriced;
  std::size_t unpriced_plans = 0;
  for (const auto& row : rows) {
    if (row.status == "ok") ++ok;
    else if (row.status == "infeasible") ++infeasible;
    else ++errors;
    if (row.status == "ok" && row.violated.empty()) ++meeting;
    if (row.status == "ok" && !row.unpriced.empty()) {
      ++unpriced_plans;
      unpriced.insert(row.unpriced.begin(), row.unpriced.end());
    }
  }
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const std::string meeting_text =
      spec.constraints.empty() ? "" : "; " + std::to_string(meeting) + " meet the constraints";
  const std::string workers = world.size > 1 ? "over " + std::to_string(world.size - 1) + " MPI ranks"
                                             : "with " + std::to_string(jobs) + " jobs";
  std::printf("servesim sweep: %zu plans (%zu ok, %zu infeasible%s%s) %s in %.2f s wall\n", rows.size(), ok,
              infeasible, errors > 0 ? (", " + std::to_string(errors) + " failed").c_str() : "", meeting_text.c_str(),
              workers.c_str(), wall_s);
  if (sweep_uses_cost(spec) && unpriced_plans > 0) {
    std::string names;
    for (const auto& name : unpriced) names += (names.empty() ? "" : ", ") + name;
    std::fprintf(stderr,
                 "servesim sweep: %zu plans not priced (no GPU price for %s): no cost, kept out of the front; give "
                 "\"prices\" in the sweep file to price them\n",
                 unpriced_plans, names.c_str());
  }
  std::string goals;
  for (const auto& objective : spec.objectives) {
    goals += std::string(goals.empty() ? "" : ", ") + (objective.maximize ? "max " : "min ") + objective.metric;
  }
  std::printf("Pareto front (%zu of %zu ok plans; %s):\n", front.size(), ok, goals.c_str());
  print_front(spec, rows, front);
  std::printf("  wrote %s/{sweep.csv,pareto.csv,pareto.svg,sweep.resolved.json,%sruns/}\n", out_dir.c_str(),
              report ? "report.html," : "");
  for (const auto& row : rows) {
    if (row.status == "error") {
      std::fprintf(stderr, "servesim sweep: plan %zu failed: %s\n", row.index, row.reason.c_str());
    }
  }
  return errors > 0 ? 1 : 0;
}

}  // namespace

SERVESIM_COMMAND("sweep", "simulate every combination of a config's axes; Pareto-optimal plans", run_sweep_command);

}  // namespace servesim

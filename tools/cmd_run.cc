// `servesim run CONFIG.json [--out DIR] [--timeline]`: replays a workload through
// one replica, plan.dp identical replicas behind a router, or disaggregated prefill and decode pools, and
// writes summary.json, requests.csv, config.resolved.json,
// kv_utilization.csv (and timeline.json). Everything is validated before the
// simulation starts (config, deployment, trace header and first record, output
// directory); files appear only after the simulation succeeded, each
// atomically (requests.csv is streamed to a hidden partial file meanwhile, so
// memory stays bounded on huge traces). summary.json carries `wall_s`, the only wall-clock value in any
// output: every other byte is identical between reruns; its "provenance" (version, source commit,
// command, each GPU's calibration) is identical between reruns of one build. The run itself is
// drive_run (sim/serving/run_driver.h), shared with `servesim sweep`.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/config/provenance.h"
#include "sim/core/config_node.h"
#include "sim/serving/run_driver.h"
#include "sim/core/units.h"
#include "tools/command.h"
#include "tools/command_line.h"
#include "tools/report/run_report.h"

namespace servesim {
namespace {

int run_run(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  std::string config_path;
  std::string out_dir = "out";
  bool timeline = false;
  bool timeline_gz = false;
  bool report = false;
  options.add_options()("config", po::value<std::string>(&config_path)->required(), "run configuration (JSON)")(
      "out", po::value<std::string>(&out_dir), "output directory (default: out)")(
      "timeline", po::bool_switch(&timeline), "also write timeline.json (Chrome trace events, opens in Perfetto)")(
      "timeline-gz", po::bool_switch(&timeline_gz),
      "write the timeline gzip-compressed instead, as timeline.json.gz (Perfetto opens it as is)")(
      "report", po::bool_switch(&report),
      "also write report.html (setup, headline numbers, latency CDFs, KV use over time; self-contained)");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vars;
  if (!parse_command_line("run", "CONFIG.json [--out DIR] [--timeline | --timeline-gz] [--report]",
                          "Simulates serving a workload (trace replay or generator) on one replica,\n"
                          "plan.dp replicas behind a router, or disaggregated prefill and decode pools:\n"
                          "continuous batching, paged KV cache, prefix caching, preemption, KV\n"
                          "handoff. Writes summary.json, requests.csv, config.resolved.json and\n"
                          "kv_utilization.csv into DIR (timeline.json with --timeline, timeline.json.gz\n"
                          "with --timeline-gz, report.html\n"
                          "with --report). Config keys:\n"
                          "hardware, model, engine, plan or disaggregation ({\"prefill\": PLAN,\n"
                          "\"decode\": PLAN, \"kv_link\": {\"bandwidth\", \"latency\"}}), scheduler, cache,\n"
                          "router (default round-robin), workload, slo, kv_sample_interval (see\n"
                          "`servesim list` for scheduler, kv-cache, router, trace-format and\n"
                          "workload-generator parameters).",
                          options, positional, args, &vars)) {
    return 0;
  }
  RunOptions run_options;
  run_options.out_dir = out_dir;
  run_options.timeline = timeline || timeline_gz;
  run_options.timeline_gzip = timeline_gz;
  run_options.distributions = report;
  if (report) {
    run_options.report_html = [&config_path](const RunOutcome& outcome) {
      return run_report_html(RunReportInputs{config_path, outcome.resolved_config, outcome.result.summary,
                                             outcome.result.distributions});
    };
  }
  run_options.provenance = [&config_path](const nlohmann::ordered_json& resolved) {
    return run_provenance(config_path, resolved);
  };
  auto json = load_json_file(config_path);
  RunOutcome outcome = drive_run(json, config_path, run_options);
  const ServingResult& result = outcome.result;
  const nlohmann::ordered_json& summary = result.summary;
  const double wall_s = outcome.wall_s;
  const std::size_t replicas = static_cast<std::size_t>(outcome.replicas);

  const auto& s = summary;
  std::printf("servesim run: %lld requests (%lld finished, %lld rejected) over %.1f s simulated in %.2f s wall\n",
              static_cast<long long>(result.arrived), static_cast<long long>(result.finished),
              static_cast<long long>(result.rejected), result.simulated_s, wall_s);
  if (summary.contains("disaggregation")) {
    const auto& d = summary["disaggregation"];
    std::printf("  %lld prefill + %lld decode replicas (%s router to prefill): %lld KV transfers, %.3g GB, "
                "mean wait for decode KV %s, mean transfer %s\n",
                static_cast<long long>(d["prefill_replicas"].get<int64_t>()),
                static_cast<long long>(d["decode_replicas"].get<int64_t>()), outcome.router_impl.c_str(),
                static_cast<long long>(d["kv_transfers"].get<int64_t>()), d["kv_transfer_bytes"].get<double>() / 1e9,
                format_seconds(d["kv_wait_s_mean"].get<double>()).c_str(),
                format_seconds(d["kv_transfer_s_mean"].get<double>()).c_str());
  } else if (replicas > 1) {
    std::printf("  %zu replicas (%s router):", replicas, outcome.router_impl.c_str());
    // Each replica's request count, or past 16 replicas their least, median and most.
    std::vector<int64_t> counts;
    for (const auto& item : summary["replicas"]) counts.push_back(item["requests"].get<int64_t>());
    if (counts.size() <= 16) {
      for (int64_t c : counts) std::printf(" %lld", static_cast<long long>(c));
      std::printf(" requests\n");
    } else {
      std::sort(counts.begin(), counts.end());
      std::printf(" %lld / %lld / %lld requests (least / median / most)\n", static_cast<long long>(counts.front()),
                  static_cast<long long>(counts[counts.size() / 2]), static_cast<long long>(counts.back()));
    }
  }
  std::printf("  TTFT   mean %s  p50 %s  p99 %s\n", format_seconds(s["ttft_s"]["mean"].get<double>()).c_str(),
              format_seconds(s["ttft_s"]["p50"].get<double>()).c_str(),
              format_seconds(s["ttft_s"]["p99"].get<double>()).c_str());
  std::printf("  TPOT   mean %s  p50 %s  p99 %s\n", format_seconds(s["tpot_s"]["mean"].get<double>()).c_str(),
              format_seconds(s["tpot_s"]["p50"].get<double>()).c_str(),
              format_seconds(s["tpot_s"]["p99"].get<double>()).c_str());
  std::printf("  throughput %.2f req/s, %.0f output tok/s; energy %.4g J (%.3g J per output token)\n",
              s["throughput"]["requests_per_s"].get<double>(), s["throughput"]["output_tokens_per_s"].get<double>(),
              s["energy"]["total_j"].get<double>(), s["energy"]["j_per_output_token"].get<double>());
  std::printf("  preemptions %lld, prefix hit rate %.1f%%", static_cast<long long>(s["preemptions"].get<int64_t>()),
              100.0 * s["prefix_hit_rate"].get<double>());
  if (s["slo"].contains("attainment")) {
    std::printf(", SLO attainment %.1f%%", 100.0 * s["slo"]["attainment"].get<double>());
  }
  std::printf("\n  wrote %s/{summary.json,requests.csv,config.resolved.json,kv_utilization.csv%s%s}\n", out_dir.c_str(),
              timeline_gz ? ",timeline.json.gz" : timeline ? ",timeline.json" : "", report ? ",report.html" : "");
  if (result.rejected > 0) {
    std::fprintf(stderr, "servesim run: warning: %lld requests rejected; first: %s\n",
                 static_cast<long long>(result.rejected),
                 summary["requests"]["first_rejection"].get<std::string>().c_str());
  }
  return 0;
}

}  // namespace

SERVESIM_COMMAND("run", "simulate serving a workload on a deployment: TTFT, TPOT, throughput, energy", run_run);

}  // namespace servesim

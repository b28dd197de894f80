// `servesim run CONFIG.json [--out DIR] [--timeline]`: replays a workload through
// one replica, or plan.dp identical replicas behind a router, and writes summary.json, requests.csv, config.resolved.json,
// kv_utilization.csv (and timeline.json). Everything is validated before the
// simulation starts (config, deployment, trace header and first record, output
// directory); files appear only after the simulation succeeded, each
// atomically (requests.csv is streamed to a hidden partial file meanwhile, so
// memory stays bounded on huge traces). summary.json carries `wall_s`, the only wall-clock value in any
// output: every other byte is identical between reruns.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/execution/deployment.h"
#include "sim/config/deployment_reader.h"
#include "sim/config_error.h"
#include "sim/config_node.h"
#include "sim/output_dir.h"
#include "sim/serving/run_config_reader.h"
#include "sim/serving/serving_run.h"
#include "sim/units.h"
#include "tools/command.h"
#include "tools/command_line.h"

namespace servesim {
namespace {

int run_run(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  std::string config_path;
  std::string out_dir = "out";
  bool timeline = false;
  options.add_options()("config", po::value<std::string>(&config_path)->required(), "run configuration (JSON)")(
      "out", po::value<std::string>(&out_dir), "output directory (default: out)")(
      "timeline", po::bool_switch(&timeline), "also write timeline.json (Chrome trace events, opens in Perfetto)");
  po::positional_options_description positional;
  positional.add("config", 1);
  po::variables_map vars;
  if (!parse_command_line("run", "CONFIG.json [--out DIR] [--timeline]",
                          "Simulates serving a workload (trace replay or generator) on one replica,\n"
                          "or plan.dp replicas behind a router: continuous batching, paged KV cache,\n"
                          "prefix caching, preemption. Writes summary.json, requests.csv,\n"
                          "config.resolved.json and kv_utilization.csv into DIR (timeline.json with\n"
                          "--timeline). Config keys: hardware, model, engine, plan, scheduler, cache,\n"
                          "router (default round-robin), workload, slo, kv_sample_interval (see\n"
                          "`servesim list` for scheduler, kv-cache, router, trace-format and\n"
                          "workload-generator parameters).",
                          options, positional, args, &vars)) {
    return 0;
  }
  const auto wall_start = std::chrono::steady_clock::now();

  // 1. Configuration: deployment and serving keys, unknown keys rejected.
  auto json = load_json_file(config_path);
  ConfigNode root(json, config_path);
  root.require_object();
  Deployment deployment = read_deployment(root);
  RunConfig config = read_run_config(root);
  root.finish();
  const std::size_t replicas = static_cast<std::size_t>(deployment.plan.dp);
  if (replicas > 1) config.resolved["router"] = config.router.resolved;

  // 2. KV capacity from hardware and model (per replica; replicas are identical).
  auto scheduler = make_scheduler(config.scheduler);
  KvBudget budget;
  try {
    budget = kv_budget(deployment, config.cache.params.number("gpu_memory_utilization"),
                       scheduler->max_batched_tokens());
  } catch (const std::invalid_argument& error) {
    throw ConfigError::at_pointer(config_path, "/plan", error.what());
  }
  auto cache = make_kv_cache(config.cache, budget.capacity_tokens);
  if (cache->total_blocks() < 1) {
    throw ConfigError::at_pointer(config_path, "/cache", "no room for even one KV block (capacity " +
                                                             std::to_string(budget.capacity_tokens) + " tokens)");
  }
  const HostLinkSpec& link = deployment.node.host_link;
  if (cache->preemption() == PreemptionMode::kSwap &&
      (!(link.d2h_bytes_per_s > 0.0) || !(link.h2d_bytes_per_s > 0.0) || !(deployment.node.cpu.memory_bytes > 0.0))) {
    throw ConfigError::at_pointer(config_path, "/cache/preemption",
                                  "\"swap\" needs a host link with both bandwidths and host memory in the hardware");
  }

  // 3. Output directory and workload, before any simulation work.
  OutputDir out(out_dir);
  auto source = open_workload(config.workload);
  auto model = make_execution_model(deployment);
  // Each replica gets its own scheduler, KV cache and execution model (none is shared state).
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<std::unique_ptr<ExecutionModel>> models;
  std::vector<ReplicaParts> parts{ReplicaParts{model.get(), scheduler.get(), cache.get()}};
  for (std::size_t i = 1; i < replicas; ++i) {
    schedulers.push_back(make_scheduler(config.scheduler));
    caches.push_back(make_kv_cache(config.cache, budget.capacity_tokens));
    models.push_back(make_execution_model(deployment));
    parts.push_back(ReplicaParts{models.back().get(), schedulers.back().get(), caches.back().get()});
  }
  std::unique_ptr<Router> router;
  if (replicas > 1) router = make_router(config.router);

  // 4. Simulate.
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = budget.kv_bytes_per_token_replica;
  inputs.host_link = link;
  inputs.host_memory_bytes = deployment.node.cpu.memory_bytes;
  inputs.gpus = deployment.plan.gpus_per_replica();  // per replica; run_serving multiplies by dp
  inputs.idle_w_per_gpu = deployment.node.gpu.idle_w;
  inputs.max_context_tokens = deployment.model.max_context;
  inputs.oversize_is_error = config.workload.oversize_is_error;
  inputs.kv_sample_interval_s = config.kv_sample_interval_s;
  inputs.slo = config.slo;
  inputs.timeline = timeline;
  OutputFile requests_csv = out.open("requests.csv");
  inputs.requests_csv_sink = [&requests_csv](std::string_view rows) { requests_csv.append(rows); };
  std::optional<OutputFile> timeline_file;
  if (timeline) {
    timeline_file.emplace(out.open("timeline.json"));
    inputs.timeline_sink = [&timeline_file](std::string_view text) { timeline_file->append(text); };
  }
  auto last_report = wall_start;
  inputs.progress = [&](double simulated_s, int64_t finished) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report < std::chrono::seconds(3)) return;
    last_report = now;
    std::fprintf(stderr, "servesim run: %.1f s simulated, %lld requests finished, %.1f s wall\n", simulated_s,
                 static_cast<long long>(finished), std::chrono::duration<double>(now - wall_start).count());
  };
  ServingResult result = replicas > 1 ? run_serving(inputs, parts, router.get(), *source)
                                      : run_serving(inputs, *model, *scheduler, *cache, *source);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  // 5. Outputs.
  nlohmann::ordered_json& summary = result.summary;
  nlohmann::ordered_json kv;
  kv["gpu_memory_bytes"] = budget.gpu_memory_bytes;
  kv["weights_bytes_per_gpu"] = budget.weights_bytes_per_gpu;
  kv["activation_reserve_bytes"] = budget.activation_reserve_bytes;
  kv["kv_bytes_per_token_replica"] = budget.kv_bytes_per_token_replica;
  summary["kv_budget"] = kv;
  summary["wall_s"] = wall_s;

  nlohmann::ordered_json resolved = nlohmann::ordered_json::parse(json->dump());
  for (auto& [key, value] : config.resolved.items()) resolved[key] = value;

  out.write("summary.json", summary.dump(2) + "\n");
  requests_csv.commit();
  out.write("config.resolved.json", resolved.dump(2) + "\n");
  out.write("kv_utilization.csv", result.kv_csv);
  if (timeline_file) timeline_file->commit();

  const auto& s = summary;
  std::printf("servesim run: %lld requests (%lld finished, %lld rejected) over %.1f s simulated in %.2f s wall\n",
              static_cast<long long>(result.arrived), static_cast<long long>(result.finished),
              static_cast<long long>(result.rejected), result.simulated_s, wall_s);
  if (replicas > 1) {
    std::printf("  %zu replicas (%s router):", replicas, config.router.impl.c_str());
    for (const auto& item : summary["replicas"]) {
      std::printf(" %lld", static_cast<long long>(item["requests"].get<int64_t>()));
    }
    std::printf(" requests\n");
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
  std::printf("\n  wrote %s/{summary.json,requests.csv,config.resolved.json,kv_utilization.csv%s}\n", out_dir.c_str(),
              timeline ? ",timeline.json" : "");
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

#include "sim/serving/run_driver.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "hardware/platform/replica_links_platform.h"
#include "models/execution/deployment.h"
#include "sim/config/deployment_reader.h"
#include "sim/core/config_error.h"
#include "sim/io/gzip_stream.h"
#include "sim/core/config_node.h"
#include "sim/io/output_dir.h"
#include "sim/core/registry.h"
#include "sim/serving/cluster_reader.h"
#include "sim/serving/run_config_reader.h"

namespace servesim {

const std::vector<std::string>& run_output_names() {
  static const std::vector<std::string> names = {"summary.json",       "requests.csv", "config.resolved.json",
                                                 "kv_utilization.csv", "timeline.json", "timeline.json.gz",
                                                 "report.html"};
  return names;
}

namespace {

// One pool of identical replicas (a deployment's plan, or one side of a disaggregated one).
struct Pool {
  std::string pointer;  // where its plan is in the config (messages)
  Deployment deployment;
  std::size_t replicas = 1;
  KvBudget budget;
  ReplicaHardware hardware;  // disaggregated pools: the pool's node as the serving run takes it
  std::unique_ptr<KvCache> first_cache;  // the pool's first replica's (built to check it holds a block)
};

// The pool's KV budget (vLLM's memory profile, or num_gpu_blocks_override) and its first replica's
// cache; throws ConfigError at `name` when the plan does not fit, max_model_len cannot be held or
// not one block fits.
void size_kv_cache(Pool& pool, const ComponentChoice& cache, int64_t max_batched_tokens, bool disaggregated,
                   const std::string& name) {
  try {
    pool.budget = kv_budget(pool.deployment, memory_budget_params(cache, max_batched_tokens));
  } catch (const std::invalid_argument& error) {
    throw ConfigError::at_pointer(name, pool.pointer, error.what());
  }
  // vLLM's num_gpu_blocks_override replaces the computed block count (memory permitting or not).
  const int64_t override_blocks = cache.params.integer("num_gpu_blocks_override");
  if (override_blocks > 0) pool.budget.capacity_tokens = override_blocks * cache.params.integer("block_tokens");
  pool.first_cache = make_kv_cache(cache, pool.budget.capacity_tokens);
  const int64_t max_model_len = cache.params.integer("max_model_len");
  if (max_model_len > 0 && pool.budget.capacity_tokens < max_model_len) {
    // vLLM refuses to start when one request of max_model_len cannot fit the KV cache.
    throw ConfigError::at_pointer(name, "/cache/max_model_len",
                                  "max_model_len " + std::to_string(max_model_len) + " is larger than the " +
                                      std::to_string(pool.budget.capacity_tokens) +
                                      " tokens the KV cache can hold (lower it or give more memory)");
  }
  if (pool.first_cache->total_blocks() < 1) {
    throw ConfigError::at_pointer(name, disaggregated ? pool.pointer : "/cache",
                                  "no room for even one KV block (capacity " +
                                      std::to_string(pool.budget.capacity_tokens) + " tokens)");
  }
}

// The offload tier `choice` asks for, checked against the node's hardware and sized in whole KV
// blocks of `cache` (`budget`'s bytes per token); throws ConfigError at `name`'s /cache/offload.
OffloadInputs offload_inputs(const OffloadChoice& choice, const NodeSpec& node, const KvCache& cache,
                             const KvBudget& budget, const std::string& name) {
  OffloadInputs offload;
  const std::string& tier = choice.tier;
  const HostLinkSpec& link = node.host_link;
  if (!cache.prefix_caching()) {
    throw ConfigError::at_pointer(name, "/cache/offload", "needs \"prefix_caching\": true (offloaded blocks are prefix-cache blocks)");
  }
  if (!(link.d2h_bytes_per_s > 0.0) || !(link.h2d_bytes_per_s > 0.0)) {
    throw ConfigError::at_pointer(name, "/cache/offload", "needs a host link with both bandwidths in the hardware");
  }
  double tier_bytes = 0.0;
  std::string what;
  if (tier == "host") {
    offload.tier = OffloadTierKind::kHost;
    tier_bytes = node.cpu.memory.capacity_bytes;
    what = "host memory (cpu.memory)";
  } else if (tier == "cxl") {
    offload.tier = OffloadTierKind::kCxl;
    offload.cxl = node.cxl;
    tier_bytes = node.cxl.total_capacity_bytes();
    what = "CXL memory";
  } else {
    offload.tier = OffloadTierKind::kSsd;
    offload.ssd = node.ssd;
    tier_bytes = node.ssd.total_capacity_bytes();
    what = "an SSD";
  }
  if (!(tier_bytes > 0.0)) {
    throw ConfigError::at_pointer(name, "/cache/offload/tier",
                                  "\"" + tier + "\" needs " + what + " in the hardware (node \"" + node.name +
                                      "\" has none" + (tier == "host" ? "" : "; add \"" + tier + "\": {...} to the node") +
                                      ")");
  }
  if (choice.capacity_bytes > tier_bytes) {
    char text[160];
    std::snprintf(text, sizeof text, "%.0f B exceeds the %.0f B of %s", choice.capacity_bytes, tier_bytes, what.c_str());
    throw ConfigError::at_pointer(name, "/cache/offload/capacity", text);
  }
  const double block_bytes = static_cast<double>(cache.block_tokens()) * budget.kv_bytes_per_token_replica;
  const double blocks = std::floor(choice.capacity_bytes / block_bytes);
  if (blocks < 1.0) {
    throw ConfigError::at_pointer(name, "/cache/offload/capacity",
                                  "smaller than one KV block (" + std::to_string(static_cast<int64_t>(block_bytes)) + " B)");
  }
  offload.capacity_blocks = static_cast<int64_t>(std::min(blocks, 1e9));
  return offload;
}

}  // namespace

RunOutcome drive_run(std::shared_ptr<const nlohmann::json> json, const std::string& name,
                     const RunOptions& options) {
  const auto wall_start = options.wall_start;

  // 1. Configuration: deployment and serving keys, unknown keys rejected.
  ConfigNode root(json, name);
  root.require_object();
  Deployment deployment = read_deployment(root);
  std::optional<DisaggregatedPlan> disaggregation;
  if (root.has("disaggregation")) disaggregation = read_disaggregation(root, deployment);
  std::optional<ComponentChoice> decode_router_choice;
  if (disaggregation) {
    ConfigNode node = root.child("disaggregation");
    decode_router_choice = read_router(node, "decode_router", "least-loaded");
  }
  std::optional<ClusterChoice> cluster;
  if (root.has("cluster")) {
    cluster = read_cluster(root, deployment.node);
    if (disaggregation) {
      ConfigNode d = root.child("disaggregation");
      if (d.has("kv_link")) {
        throw ConfigError::at_pointer(name, "/disaggregation/kv_link",
                                      "on a \"cluster\" the KV crosses the cluster's network: drop \"kv_link\"");
      }
      for (const char* pool : {"prefill", "decode"}) {
        ConfigNode p = d.child(pool);
        if (p.has("hardware")) {
          throw ConfigError::at_pointer(name, std::string("/disaggregation/") + pool + "/hardware",
                                        "a cluster is made of one kind of node (\"hardware\"); pools on other "
                                        "hardware within it are not modelled");
        }
      }
    }
  }
  RunConfig config = read_run_config(root);
  root.finish();

  // 2. Pools of identical replicas: one ("/plan", dp replicas) or, disaggregated, a prefill and
  // a decode pool, each with its own plan, KV capacity and GPU count.
  std::vector<Pool> pools;
  pools.reserve(2);  // at most two pools; their replicas point at their nodes
  if (disaggregation) {
    for (const auto& [pointer, plan, node] :
         {std::tuple{"/disaggregation/prefill", disaggregation->prefill, disaggregation->prefill_node},
          std::tuple{"/disaggregation/decode", disaggregation->decode, disaggregation->decode_node}}) {
      Pool pool{pointer, deployment, static_cast<std::size_t>(plan.dp), {}, {}, nullptr};
      pool.deployment.plan = plan;
      pool.deployment.node = node;
      pool.hardware = ReplicaHardware{node.name, replica_host_link(node, plan.gpus_per_replica()), node.cpu.memory.capacity_bytes,
                                       node.gpu.idle_w, nullptr};
      pools.push_back(std::move(pool));
      pools.back().hardware.node = &pools.back().deployment.node;
    }
  } else {
    pools.push_back(Pool{"/plan", deployment, static_cast<std::size_t>(deployment.plan.dp), {}, {}, nullptr});
  }
  if (cluster) {
    for (Pool& pool : pools) use_cluster_network(cluster->spec, pool.deployment.node.fabric);
    use_cluster_network(cluster->spec, cluster->spec.node.fabric);
  }
  std::size_t replicas = 0;
  for (const Pool& pool : pools) replicas += pool.replicas;
  if (replicas > 1) config.resolved["router"] = config.router.resolved;

  // KV capacity from hardware and model, per pool.
  auto scheduler = make_scheduler(config.scheduler);
  if (scheduler->micro_batches() > 1 &&
      std::all_of(pools.begin(), pools.end(), [](const Pool& pool) { return pool.deployment.plan.pp == 1; })) {
    throw ConfigError::at_pointer(name, "/scheduler/micro_batches",
                                  "micro_batches " + std::to_string(scheduler->micro_batches()) +
                                      " needs a plan with pp > 1 (one pipeline stage runs one batch at a time)");
  }
  for (Pool& pool : pools) size_kv_cache(pool, config.cache, scheduler->max_batched_tokens(), disaggregation.has_value(), name);
  const KvBudget& budget = pools.front().budget;
  KvCache* cache = pools.front().first_cache.get();  // replica 0's; its settings are every replica's
  for (const Pool& pool : pools) {
    const NodeSpec& node = pool.deployment.node;
    if (cache->preemption() == PreemptionMode::kSwap &&
        (!(node.host_link.d2h_bytes_per_s > 0.0) || !(node.host_link.h2d_bytes_per_s > 0.0) ||
         !(node.cpu.memory.capacity_bytes > 0.0))) {
      throw ConfigError::at_pointer(name, "/cache/preemption",
                                    "\"swap\" needs a host link with both bandwidths and host memory in the hardware" +
                                        std::string(disaggregation ? " of both pools" : ""));
    }
  }

  // KV offload tier: its hardware must exist on the node; capacity in whole blocks.
  if (config.offload.enabled && disaggregation) {
    throw ConfigError::at_pointer(name, "/cache/offload", "a KV offload tier with \"disaggregation\" is not modelled");
  }
  const OffloadInputs offload =
      config.offload.enabled ? offload_inputs(config.offload, deployment.node, *cache, budget, name) : OffloadInputs{};

  // 3. Output directory and workload, before any simulation work.
  OutputDir out(options.out_dir);
  out.refuse_overwriting(name, run_output_names());
  if (config.workload.is_trace) out.refuse_overwriting(config.workload.trace_path, run_output_names());
  auto source = open_workload(config.workload);
  auto model = make_execution_model(pools.front().deployment);
  // Each replica gets its own scheduler, KV cache and execution model (none is shared state).
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<std::unique_ptr<ExecutionModel>> models;
  std::vector<ReplicaParts> parts;
  int64_t all_gpus = 0;
  for (Pool& pool : pools) {
    const int64_t gpus = pool.deployment.plan.gpus_per_replica();
    const int64_t stages = pool.deployment.plan.pp;
    const int64_t micro_batches = stages > 1 && scheduler->micro_batches() == 0 ? stages : std::max<int64_t>(1, scheduler->micro_batches());
    all_gpus += gpus * static_cast<int64_t>(pool.replicas);
    for (std::size_t i = 0; i < pool.replicas; ++i) {
      const ReplicaHardware* hardware = disaggregation ? &pool.hardware : nullptr;
      if (parts.empty()) {
        parts.push_back(ReplicaParts{model.get(), scheduler.get(), pool.first_cache.get(), gpus,
                                     pool.budget.kv_bytes_per_token_replica, hardware, stages, micro_batches});
        continue;
      }
      schedulers.push_back(make_scheduler(config.scheduler));
      caches.push_back(i == 0 ? std::move(pool.first_cache) : make_kv_cache(config.cache, pool.budget.capacity_tokens));
      models.push_back(make_execution_model(pool.deployment));
      parts.push_back(ReplicaParts{models.back().get(), schedulers.back().get(), caches.back().get(), gpus,
                                   pool.budget.kv_bytes_per_token_replica, hardware, stages, micro_batches});
    }
  }
  // Collectives on the cluster's links ("collectives": {"impl": "flow"}): one model per pool, on
  // the pool's fabric numbers.
  std::vector<std::unique_ptr<CollectiveModel>> link_collectives;
  if (!deployment.collectives.empty()) {
    const auto* entry = Registry<CollectiveModel>::instance().find(deployment.collectives);
    for (std::size_t p = 0; p < pools.size(); ++p) {
      link_collectives.push_back(entry->factory(deployment.collectives_params, pools[p].deployment.node.fabric));
    }
    nlohmann::ordered_json resolved = params_to_json(entry->info.params, deployment.collectives_params);
    resolved["impl"] = deployment.collectives;
    config.resolved["collectives"] = resolved;
    if (link_collectives.front()->uses_links()) {
      if (!cluster) {
        throw ConfigError::at_pointer(name, "/collectives/impl",
                                      "\"" + deployment.collectives +
                                          "\" collectives run on a cluster's links: add \"cluster\" (one node is "
                                          "enough)");
      }
      std::size_t part = 0;
      for (std::size_t p = 0; p < pools.size(); ++p) {
        for (std::size_t r = 0; r < pools[p].replicas; ++r, ++part) {
          parts[part].collectives_on_links = link_collectives[p].get();
          parts[part].tp = pools[p].deployment.plan.tp;
        }
      }
    }
  }
  std::vector<std::vector<int64_t>> placement;
  if (cluster) {
    std::vector<int64_t> gpus_per_replica, stage_gpus;
    for (const ReplicaParts& part : parts) gpus_per_replica.push_back(part.gpus);
    for (const Pool& pool : pools) stage_gpus.insert(stage_gpus.end(), pool.replicas, pool.deployment.plan.gpus_per_stage());
    placement = place_replicas(*cluster, gpus_per_replica, stage_gpus, name);
    config.resolved["cluster"] = cluster->resolved;
  }
  std::unique_ptr<Router> router;
  if (replicas > 1) router = make_router(config.router);
  std::unique_ptr<Router> decode_router;
  if (decode_router_choice) decode_router = make_router(*decode_router_choice);

  // 4. Simulate.
  ServingInputs inputs;
  if (cluster) {
    inputs.cluster = &cluster->spec;
    inputs.placement = placement;
  }
  inputs.kv_bytes_per_token_replica = budget.kv_bytes_per_token_replica;
  // Off a cluster a replica's host link carries all its GPUs' shares (on one, each GPU's link is its own).
  inputs.host_link = replica_host_link(deployment.node, deployment.plan.gpus_per_replica());
  inputs.host_memory_bytes = deployment.node.cpu.memory.capacity_bytes;
  // A host-DRAM offload tier takes its capacity out of the room for swapped KV.
  if (offload.capacity_blocks > 0 && offload.tier == OffloadTierKind::kHost) {
    inputs.host_memory_bytes = std::max(0.0, inputs.host_memory_bytes - config.offload.capacity_bytes);
  }
  inputs.offload = offload;
  inputs.gpus = pools.front().deployment.plan.gpus_per_replica();  // per replica unless its parts say
  if (disaggregation) {
    inputs.disaggregation.prefill_replicas = static_cast<int64_t>(pools.front().replicas);
    inputs.disaggregation.kv_link_bytes_per_s = disaggregation->kv_link_bytes_per_s;
    inputs.disaggregation.kv_link_latency_s = disaggregation->kv_link_latency_s;
    inputs.disaggregation.decode_router = decode_router.get();
  }
  inputs.idle_w_per_gpu = deployment.node.gpu.idle_w;
  inputs.node = &deployment.node;
  const int64_t max_model_len = config.cache.params.integer("max_model_len");
  inputs.max_context_tokens = max_model_len > 0 ? max_model_len : deployment.model.max_context;
  inputs.oversize_is_error = config.workload.oversize_is_error;
  inputs.kv_sample_interval_s = config.kv_sample_interval_s;
  inputs.slo = config.slo;
  inputs.timeline = options.timeline;
  inputs.distributions = options.distributions;
  OutputFile& requests_csv = out.open("requests.csv");
  inputs.requests_csv_sink = [&requests_csv](std::string_view rows) { requests_csv.append(rows); };
  std::unique_ptr<GzipStream> timeline_gzip;
  if (options.timeline) {
    OutputFile& timeline_file = out.open(options.timeline_gzip ? "timeline.json.gz" : "timeline.json");
    if (options.timeline_gzip) {
      timeline_gzip = std::make_unique<GzipStream>([&timeline_file](std::string_view bytes) { timeline_file.append(bytes); });
      inputs.timeline_sink = [&timeline_gzip](std::string_view text) { timeline_gzip->write(text); };
    } else {
      inputs.timeline_sink = [&timeline_file](std::string_view text) { timeline_file.append(text); };
    }
  }
  auto last_report = wall_start;
  if (!options.progress_label.empty()) {
    inputs.progress = [&](double simulated_s, int64_t finished) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report < std::chrono::seconds(3)) return;
      last_report = now;
      std::fprintf(stderr, "%s: %.1f s simulated, %lld requests finished, %.1f s wall\n",
                   options.progress_label.c_str(), simulated_s, static_cast<long long>(finished),
                   std::chrono::duration<double>(now - wall_start).count());
    };
  }
  RunOutcome outcome;
  outcome.result = run_serving(inputs, parts, router.get(), *source);
  if (timeline_gzip) timeline_gzip->finish();
  outcome.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  outcome.replicas = static_cast<int64_t>(replicas);
  outcome.gpus = all_gpus;
  outcome.router_impl = config.router.impl;

  // 5. Outputs.
  nlohmann::ordered_json& summary = outcome.result.summary;
  auto budget_json = [](const KvBudget& b) {
    nlohmann::ordered_json kv;
    kv["gpu_memory_bytes"] = b.gpu_memory_bytes;
    kv["weights_bytes_per_gpu"] = b.weights_bytes_per_gpu;
    kv["activation_reserve_bytes"] = b.activation_reserve_bytes;
    kv["non_torch_bytes"] = b.non_torch_bytes;
    kv["cuda_graph_bytes"] = b.cuda_graph_bytes;
    kv["kv_cache_bytes_per_gpu"] = b.kv_cache_bytes_per_gpu;
    kv["kv_bytes_per_token_replica"] = b.kv_bytes_per_token_replica;
    return kv;
  };
  if (disaggregation) {
    summary["kv_budget"] = {{"prefill", budget_json(pools[0].budget)}, {"decode", budget_json(pools[1].budget)}};
  } else {
    summary["kv_budget"] = budget_json(budget);
  }
  summary["wall_s"] = outcome.wall_s;

  nlohmann::ordered_json resolved = nlohmann::ordered_json::parse(json->dump());
  for (auto& [key, value] : config.resolved.items()) resolved[key] = value;
  if (decode_router_choice) resolved["disaggregation"]["decode_router"] = decode_router_choice->resolved;
  if (options.provenance) summary["provenance"] = options.provenance(resolved);

  out.write("summary.json", summary.dump(2) + "\n");
  out.write("config.resolved.json", resolved.dump(2) + "\n");
  outcome.resolved_config = std::move(resolved);
  out.write("kv_utilization.csv", outcome.result.kv_csv);
  if (options.report_html) out.write("report.html", options.report_html(outcome));
  // Every file appears together, and files an earlier run left here (timeline.json of a run
  // with --timeline, say) go, so the directory holds exactly this run.
  out.commit(run_output_names());
  return outcome;
}

}  // namespace servesim

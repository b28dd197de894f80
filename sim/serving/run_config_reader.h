#pragma once
// Contract: reads the serving part of a run config into typed choices:
// "scheduler", "cache" and "router" ({"impl": NAME, params}, defaults vllm /
// paged / round-robin; the router matters only when plan.dp > 1),
// "workload" ({"trace": {"format", "path", "start", "end", "rate_scale",
// "max_requests", format params}} or {"generator": {"impl", params}}, plus
// "oversized": "error" | "reject"), "slo" ({"ttft": "500 ms", "tpot": "50 ms"})
// and "kv_sample_interval"; "cache" may hold "offload". Every key is validated where it is read (JSON
// pointer in errors) and the resolved values, defaults included, are kept for
// config.resolved.json. A trace path is relative to the config file. Opening
// the workload reads the trace header and first record, so a bad trace fails
// before any simulation.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "models/cache/kv_cache.h"
#include "models/execution/deployment.h"
#include "models/router/router.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/config_node.h"
#include "sim/core/params.h"
#include "sim/serving/metrics.h"
#include "traces/trace_source.h"

namespace servesim {

struct ComponentChoice {
  std::string impl;
  ParamValues params;
  nlohmann::ordered_json resolved;
};

struct WorkloadChoice {
  bool is_trace = false;
  std::string file;  // config file (messages)
  std::string trace_path;  // resolved
  ComponentChoice source;  // format or generator
  double start_s = 0.0;
  double end_s = 0.0;  // 0 = end of trace
  double rate_scale = 1.0;
  int64_t max_requests = 0;
  bool oversize_is_error = true;
  nlohmann::ordered_json resolved;
};

/// "cache": {"offload": {"tier": "host" | "cxl" | "ssd", "capacity": "<size>"}}; absent = no tier.
struct OffloadChoice {
  bool enabled = false;
  std::string tier;  // "host", "cxl", "ssd"
  double capacity_bytes = 0.0;
};

struct RunConfig {
  ComponentChoice scheduler;
  ComponentChoice cache;
  OffloadChoice offload;  // checked against the hardware by the run driver
  ComponentChoice router;
  bool router_given = false;  // "router" key present
  WorkloadChoice workload;
  SloTargets slo;
  double kv_sample_interval_s = 1.0;
  nlohmann::ordered_json resolved;  // scheduler, cache, [router], workload, slo, kv_sample_interval
};

/// Reads the serving keys of `root` (marks them as read; the caller calls root.finish()).
RunConfig read_run_config(ConfigNode& root);

std::unique_ptr<Scheduler> make_scheduler(const ComponentChoice& choice);
std::unique_ptr<KvCache> make_kv_cache(const ComponentChoice& choice, int64_t capacity_tokens);
/// How the KV budget is sized: the cache's gpu_memory_utilization, non_torch_memory and
/// cuda_graph_memory, with the scheduler's token budget as the profiled forward pass.
MemoryBudgetParams memory_budget_params(const ComponentChoice& cache, int64_t max_batched_tokens);
std::unique_ptr<Router> make_router(const ComponentChoice& choice);
/// A router choice under `parent[key]` ({"impl": NAME, params}; `default_impl` when absent).
ComponentChoice read_router(ConfigNode& parent, const std::string& key, const std::string& default_impl);
/// Opens the trace (header and first record checked) or starts the generator.
std::unique_ptr<TraceSource> open_workload(const WorkloadChoice& workload);

/// The values of `specs` as JSON (quantities as unit strings), for resolved configs.
nlohmann::ordered_json params_to_json(const ParamSpecs& specs, const ParamValues& values);

}  // namespace servesim

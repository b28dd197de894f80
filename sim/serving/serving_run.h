#pragma once
// Contract: one simulated serving run: builds the engine platform for the
// replica's host link (endpoints "gpu" and "host", separate D2H and H2D links,
// asymmetric routes), runs one replica over the whole request stream, and
// returns the outputs as text (summary.json, requests.csv, timeline.json,
// kv_utilization.csv). Takes the execution model, scheduler, KV cache and
// trace as plain inputs, so tests drive it with a fake model. Deterministic:
// no wall-clock value enters the outputs (the caller adds wall_s).
// Energy = sum of the iterations' energies + idle power x idle GPU time
// (idle_w_per_gpu = 0: idle energy not modelled, and summary says so).
// Data parallelism: N replicas (each its own scheduler, KV cache, execution
// model, host link and host memory) behind a Router fed by the one trace
// (see Dispatcher). With one replica and no router the replica reads the
// trace itself, exactly as before routers existed. With N > 1, throughput per
// GPU divides by all GPUs of all replicas, energy sums all replicas,
// summary.json gains a "replicas" array, requests.csv a "replica" column and
// kv_utilization.csv a replica column.
// KV offload (inputs.offload, optional): each replica gets its own tier of
// capacity_blocks blocks; "cxl" adds an endpoint "cxl" behind the host link
// (GPU->cxl crosses D2H then the CXL write link, cxl->GPU the CXL read link
// then H2D), "ssd" a disk "ssd" on the host endpoint. summary.json gains an
// "offload" object only when offload is on.
// Disaggregation (inputs.disaggregation, needs at least one replica of each
// kind): arrivals go through the router to the prefill replicas; a request's
// first token is emitted by its prefill replica, which then hands it to a
// decode replica (KvHandoff: KV over the KV links). TTFT is the prefill
// replica's; the gap to the second token (KV wait + transfer + the decode
// replica's queue) counts as an inter-token gap. requests.csv's replica column
// is the replica the request finished on (a decode replica, numbered after the
// prefill ones, unless it had one output token); summary.json gains a
// "disaggregation" object and a "role" per replica.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware/spec/node_spec.h"
#include "hardware/platform/cluster_spec.h"
#include "models/cache/kv_cache.h"
#include "models/cache/offload_tier.h"
#include "models/execution/execution_model.h"
#include "models/router/router.h"
#include "models/scheduler/scheduler.h"
#include "sim/serving/metrics.h"
#include "traces/trace_source.h"

namespace servesim {

struct OffloadInputs {
  int64_t capacity_blocks = 0;  // per replica; 0 = no offload tier
  OffloadTierKind tier = OffloadTierKind::kHost;
  CxlMemorySpec cxl;  // tier "cxl"
  SsdSpec ssd;        // tier "ssd"
};

/// Prefill/decode disaggregation: the first `prefill_replicas` replicas only
/// prefill, the others only decode (0 = every replica does both). Each replica
/// has a KV link of its own (a NIC: kv_tx<i> out, kv_rx<i> in, at the link's
/// bandwidth; the latency is paid once per transfer).
struct DisaggregationInputs {
  int64_t prefill_replicas = 0;
  double kv_link_bytes_per_s = 0.0;
  double kv_link_latency_s = 0.0;
  Router* decode_router = nullptr;  // picks each prefilled request's decode replica; null = least-loaded
};

struct ServingInputs {
  /// Set: the replicas run on this cluster's platform (hardware/platform), replica i on the GPUs
  /// placement[i]; KV handoffs cross the cluster network (no kv_link). Unset: each replica has
  /// its own host link and, disaggregated, its own KV link.
  const ClusterSpec* cluster = nullptr;
  std::vector<std::vector<int64_t>> placement;
  double kv_bytes_per_token_replica = 0.0;
  HostLinkSpec host_link;          // zero bandwidth = no host link (swap falls back to recompute)
  double host_memory_bytes = 0.0;  // room for swapped KV
  OffloadInputs offload;           // KV offload tier below GPU memory (needs the host link)
  DisaggregationInputs disaggregation;
  int64_t gpus = 1;                // GPUs of one replica (per-GPU throughput, idle energy) unless its parts say
  double idle_w_per_gpu = 0.0;
  /// Off a cluster: the replicas' node (its host devices' energy: summary energy.platform); null = not reported.
  const NodeSpec* node = nullptr;
  int64_t max_context_tokens = 0;
  bool oversize_is_error = true;
  double kv_sample_interval_s = 1.0;
  SloTargets slo;
  bool timeline = false;
  /// Receives timeline.json a chunk at a time; unset = ServingResult::timeline_json.
  std::function<void(std::string_view)> timeline_sink;
  /// Receives requests.csv a chunk at a time as requests finish (bounded memory);
  /// unset = the rows come back in ServingResult::requests_csv.
  std::function<void(std::string_view)> requests_csv_sink;
  /// Fill ServingResult::distributions (sorts every per-request value once: report.html only).
  bool distributions = false;
  /// Called now and then during the run (every 16384 iterations) with (simulated s, finished).
  std::function<void(double, int64_t)> progress;
};

/// What report.html draws: latency distributions and KV use over time (ServingInputs::distributions).
struct ServingDistributions {
  static constexpr int kQuantileSteps = 200;
  static constexpr std::size_t kMaxKvPoints = 2000;
  // Quantiles q = 0, 1/kQuantileSteps, ..., 1 of the finished requests (empty when none).
  std::vector<double> ttft_s, tpot_s, e2e_s, queueing_s;
  // (time, used fraction) per replica, every k-th sample so that at most kMaxKvPoints remain.
  std::vector<std::vector<std::pair<double, double>>> kv_used;
};

struct ServingResult {
  nlohmann::ordered_json summary;
  std::string requests_csv;  // empty when inputs.requests_csv_sink was set
  std::string timeline_json;  // empty unless inputs.timeline (and no timeline_sink)
  std::string kv_csv;
  ServingDistributions distributions;
  int64_t arrived = 0;
  int64_t finished = 0;
  int64_t rejected = 0;
  double simulated_s = 0.0;
  double swap_out_bytes = 0.0;
  double swap_in_bytes = 0.0;
  int64_t iterations = 0;
  uint64_t events = 0;
};

/// The node a replica runs on, where it differs from the run's (disaggregated pools).
struct ReplicaHardware {
  std::string name;  // reported per replica in summary.json
  HostLinkSpec host_link;
  double host_memory_bytes = 0.0;
  double idle_w_per_gpu = 0.0;
  const NodeSpec* node = nullptr;  // off a cluster: its host devices' energy (null = not reported)
};

/// The per-replica components of one data-parallel replica (not owned).
struct ReplicaParts {
  ExecutionModel* model = nullptr;
  Scheduler* scheduler = nullptr;
  KvCache* cache = nullptr;
  int64_t gpus = 0;                 // 0 = ServingInputs::gpus
  double kv_bytes_per_token = 0.0;  // 0 = ServingInputs::kv_bytes_per_token_replica
  const ReplicaHardware* hardware = nullptr;  // null = ServingInputs' host link, host memory, idle power
  int64_t pipeline_stages = 1;  // the plan's pp
  int64_t micro_batches = 1;    // batches in flight at once (lanes); 1 without pipeline parallelism
  /// Set: the iteration's collectives run on the cluster's links through this model (see ReplicaParams).
  CollectiveModel* collectives_on_links = nullptr;
  int64_t tp = 1;  // tensor-parallel group size (all-reduces on links)
};

/// Runs the stream to completion on one replica; throws ConfigError for bad trace records.
ServingResult run_serving(const ServingInputs& inputs, ExecutionModel& model, Scheduler& scheduler, KvCache& cache,
                          TraceSource& source);
/// Runs the stream on `replicas` behind `router`; a null router is allowed only for one
/// replica (it then reads the trace itself). With inputs.disaggregation the router spreads
/// arrivals over the prefill replicas only.
ServingResult run_serving(const ServingInputs& inputs, const std::vector<ReplicaParts>& replicas, Router* router,
                          TraceSource& source);

}  // namespace servesim

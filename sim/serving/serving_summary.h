#pragma once
// Contract: what a finished serving run reports. From the replicas, the metrics, the engine's byte counts
// and the platform a run used, builds summary.json (requests, latency percentiles, throughput, energy of
// the GPUs and of the whole platform, swaps, the KV cache, offload, pipeline stages, replicas, cluster,
// disaggregation), requests.csv (flushed or returned), kv_utilization.csv, the timeline and the
// distributions report.html draws. Reads the run; changes nothing in it except finishing the metrics'
// CSV and the timeline. Seconds, joules, bytes.

#include <cstddef>
#include <vector>

#include "hardware/platform/cluster_platform.h"
#include "hardware/platform/replica_links_platform.h"
#include "sim/core/engine.h"
#include "sim/serving/metrics.h"
#include "sim/serving/replica.h"
#include "sim/serving/serving_run.h"

namespace servesim {

class KvHandoff;
class TimelineWriter;

/// A run after engine.run(): what it was given and what it built (not owned).
struct FinishedRun {
  const ServingInputs& inputs;
  const std::vector<ReplicaParts>& parts;
  const std::vector<ReplicaHardware>& hardware;  // replica i's node
  const std::vector<Replica*>& replicas;
  Metrics& metrics;
  Engine& engine;
  const ClusterPlatform* cluster;        // set on a cluster
  const ReplicaLinksPlatform* separate;  // set without one
  const KvHandoff* handoff;              // set when disaggregated
  TimelineWriter* timeline;              // set when the timeline is written
  std::size_t prefill_count;             // disaggregation's prefill replicas (0 = none)
  bool offload;                          // the replicas have a KV offload tier
};

/// The run's outputs.
ServingResult summarize_run(const FinishedRun& run);

}  // namespace servesim

#include "sim/serving/serving_run.h"

#include <algorithm>
#include <cassert>
#include <memory>
#include <string>

#include "hardware/platform/cluster_platform.h"
#include "hardware/platform/replica_links_platform.h"
#include "sim/core/engine.h"
#include "sim/serving/dispatcher.h"
#include "sim/core/registry.h"
#include "sim/serving/kv_handoff.h"
#include "sim/serving/replica.h"
#include "sim/serving/serving_summary.h"
#include "traces/timeline_writer.h"

namespace servesim {
namespace {

bool has_both_directions(const HostLinkSpec& link) { return link.d2h_bytes_per_s > 0.0 && link.h2d_bytes_per_s > 0.0; }

OffloadDevice offload_device(const OffloadInputs& offload) {
  if (offload.capacity_blocks <= 0) return OffloadDevice::kNone;
  switch (offload.tier) {
    case OffloadTierKind::kHost: return OffloadDevice::kHostMemory;
    case OffloadTierKind::kCxl: return OffloadDevice::kCxl;
    case OffloadTierKind::kSsd: return OffloadDevice::kSsd;
  }
  return OffloadDevice::kNone;
}

// A thin wrapper so the progress hook runs every few thousand iterations without touching the replica.
class CountingModel : public ExecutionModel {
 public:
  CountingModel(ExecutionModel& inner, const std::function<void(double, int64_t)>& progress, const Engine& engine,
                const Metrics& metrics, uint64_t& calls)
      : inner_(inner), progress_(progress), engine_(engine), metrics_(metrics), calls_(calls) {}
  IterationPrediction predict(const BatchShape& batch) const override { return inner_.predict(batch); }
  IterationTiming timing(const BatchShape& batch) override {
    if ((++calls_ & 16383) == 0 && progress_) progress_(engine_.now(), metrics_.finished_count());
    return inner_.timing(batch);
  }
  void communication(const BatchShape& batch, std::size_t stage, std::vector<CollectiveCall>& calls) const override {
    inner_.communication(batch, stage, calls);
  }
  IterationTiming stage_timing(const BatchShape& batch, StageTimes& stages) override {
    if ((++calls_ & 16383) == 0 && progress_) progress_(engine_.now(), metrics_.finished_count());
    return inner_.stage_timing(batch, stages);
  }

 private:
  ExecutionModel& inner_;
  const std::function<void(double, int64_t)>& progress_;
  const Engine& engine_;
  const Metrics& metrics_;
  uint64_t& calls_;  // shared by the replicas' wrappers
};

}  // namespace

ServingResult run_serving(const ServingInputs& inputs, ExecutionModel& model, Scheduler& scheduler, KvCache& cache,
                          TraceSource& source) {
  return run_serving(inputs, {ReplicaParts{&model, &scheduler, &cache}}, nullptr, source);
}

ServingResult run_serving(const ServingInputs& inputs, const std::vector<ReplicaParts>& parts, Router* router,
                          TraceSource& source) {
  assert(!parts.empty() && (router != nullptr || parts.size() == 1));
  const std::size_t n = parts.size();
  const bool data_parallel = n > 1;
  const auto prefill_count = static_cast<std::size_t>(inputs.disaggregation.prefill_replicas);
  const bool disaggregated = prefill_count > 0;
  assert(!disaggregated || (prefill_count < n && router != nullptr));
  // Each replica's node: its own where its parts name one, else the run's.
  std::vector<ReplicaHardware> hardware;
  std::vector<HostLinkSpec> links;
  for (const ReplicaParts& part : parts) {
    hardware.push_back(part.hardware != nullptr
                           ? *part.hardware
                           : ReplicaHardware{"", inputs.host_link, inputs.host_memory_bytes, inputs.idle_w_per_gpu, inputs.node});
    links.push_back(hardware.back().host_link);
  }
  // On a cluster the platform comes from hardware/platform and replicas sit on their placed
  // GPUs; otherwise each replica gets a host link (and a KV link) of its own.
  std::unique_ptr<ClusterPlatform> cluster;
  std::unique_ptr<ReplicaLinksPlatform> separate;
  if (inputs.cluster != nullptr) {
    assert(inputs.placement.size() == n);
    cluster = std::make_unique<ClusterPlatform>(*inputs.cluster);
  } else {
    ReplicaLinksSpec spec;
    spec.host_links = links;
    spec.offload = offload_device(inputs.offload);
    spec.cxl = inputs.offload.cxl;
    spec.ssd = inputs.offload.ssd;
    if (disaggregated) {
      spec.prefill_replicas = inputs.disaggregation.prefill_replicas;
      spec.kv_link_bytes_per_s = inputs.disaggregation.kv_link_bytes_per_s;
      spec.kv_link_latency_s = inputs.disaggregation.kv_link_latency_s;
    }
    separate = std::make_unique<ReplicaLinksPlatform>(spec);
  }
  Engine engine(cluster ? cluster->spec() : separate->spec());
  Metrics metrics(inputs.slo, data_parallel);
  if (inputs.requests_csv_sink) metrics.set_csv_sink(inputs.requests_csv_sink);
  std::unique_ptr<TimelineWriter> timeline;
  if (inputs.timeline) timeline = std::make_unique<TimelineWriter>(inputs.timeline_sink);
  const bool offload = has_both_directions(inputs.host_link) && inputs.offload.capacity_blocks > 0;
  assert(!offload || std::all_of(parts.begin(), parts.end(), [](const ReplicaParts& p) { return p.hardware == nullptr; }));

  uint64_t model_calls = 0;
  std::vector<std::unique_ptr<CountingModel>> counted;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::vector<Replica*> replica_list;
  // A request must fit the KV cache of any decode replica it may be handed to.
  int64_t decode_kv_tokens = 0;
  for (std::size_t i = prefill_count; disaggregated && i < n; ++i) {
    const int64_t tokens = parts[i].cache->total_blocks() * parts[i].cache->block_tokens();
    decode_kv_tokens = i == prefill_count ? tokens : std::min(decode_kv_tokens, tokens);
  }
  for (std::size_t i = 0; i < n; ++i) {
    ReplicaParams params;
    params.kv_bytes_per_token =
        parts[i].kv_bytes_per_token > 0.0 ? parts[i].kv_bytes_per_token : inputs.kv_bytes_per_token_replica;
    if (disaggregated) {
      params.role = i < prefill_count ? ReplicaRole::kPrefill : ReplicaRole::kDecode;
      if (i < prefill_count) params.downstream_kv_tokens = decode_kv_tokens;
    }
    params.host_memory_bytes = has_both_directions(links[i]) ? hardware[i].host_memory_bytes : 0.0;
    params.max_context_tokens = inputs.max_context_tokens;
    params.oversize_is_error = inputs.oversize_is_error;
    params.kv_sample_interval_s = inputs.kv_sample_interval_s;
    int64_t node = 0;  // the node of the replica's first GPU (its host, CXL and SSD)
    if (cluster) {
      for (int64_t g : inputs.placement[i]) params.gpus.push_back(static_cast<EndpointId>(cluster->gpu_endpoint(g)));
      node = cluster->node_of(inputs.placement[i].front());
      params.gpu = params.gpus.front();
      params.host = static_cast<EndpointId>(cluster->host_endpoint(node));
    } else {
      params.gpu = static_cast<EndpointId>(separate->gpu_endpoint(i));
      params.host = static_cast<EndpointId>(separate->host_endpoint(i));
    }
    params.index = static_cast<int>(i);
    if (cluster && parts[i].collectives_on_links != nullptr) {
      params.collectives_on_links = parts[i].collectives_on_links;
      params.tp = parts[i].tp;
    }
    params.pipeline_stages = parts[i].pipeline_stages;
    params.micro_batches = parts[i].micro_batches;
    if (offload) {
      params.offload_tier = inputs.offload.tier;
      params.offload_capacity_blocks = inputs.offload.capacity_blocks;
      const bool cxl = inputs.offload.tier == OffloadTierKind::kCxl;
      if (cluster) {
        params.offload_endpoint = cxl ? static_cast<EndpointId>(cluster->cxl_endpoint(node)) : params.host;
        if (inputs.offload.tier == OffloadTierKind::kSsd) params.offload_disk = engine.disk(cluster->ssd_disk(node));
      } else {
        params.offload_endpoint = static_cast<EndpointId>(separate->offload_endpoint(i));
        if (inputs.offload.tier == OffloadTierKind::kSsd) params.offload_disk = engine.disk(separate->ssd_disk(i));
      }
    }
    counted.push_back(std::make_unique<CountingModel>(*parts[i].model, inputs.progress, engine, metrics, model_calls));
    replicas.push_back(std::make_unique<Replica>(engine, *counted.back(), *parts[i].scheduler, *parts[i].cache, source,
                                                 metrics, params, timeline.get()));
    replica_list.push_back(replicas.back().get());
  }
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<KvHandoff> handoff;
  std::unique_ptr<Router> default_decode_router;
  if (disaggregated) {
    const std::vector<Replica*> prefill(replica_list.begin(), replica_list.begin() + static_cast<std::ptrdiff_t>(prefill_count));
    const std::vector<Replica*> decode(replica_list.begin() + static_cast<std::ptrdiff_t>(prefill_count), replica_list.end());
    if (inputs.disaggregation.decode_router == nullptr) {
      const auto* entry = Registry<Router>::instance().find("least-loaded");
      default_decode_router = entry->factory(default_params(entry->info.params));
    }
    Router& decode_router =
        inputs.disaggregation.decode_router != nullptr ? *inputs.disaggregation.decode_router : *default_decode_router;
    handoff = std::make_unique<KvHandoff>(engine, decode, decode_router, timeline.get());
    dispatcher = std::make_unique<Dispatcher>(engine, source, *router, prefill);
    for (Replica* replica : prefill) {
      replica->use_feed(*dispatcher);
      replica->use_handoff(*handoff);
    }
    for (Replica* replica : decode) replica->use_feed(*handoff);
    dispatcher->start();
  } else if (router != nullptr) {
    dispatcher = std::make_unique<Dispatcher>(engine, source, *router, replica_list);
    for (Replica* replica : replica_list) replica->use_feed(*dispatcher);
    dispatcher->start();
  } else {
    replica_list[0]->start();
  }
  engine.run();
  return summarize_run(FinishedRun{inputs, parts, hardware, replica_list, metrics, engine, cluster.get(), separate.get(),
                                   handoff.get(), timeline.get(), prefill_count, offload});
}

}  // namespace servesim

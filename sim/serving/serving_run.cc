#include "sim/serving/serving_run.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "hardware/platform/cluster_platform.h"
#include "hardware/platform/platform_energy.h"
#include "hardware/platform/replica_links_platform.h"
#include "sim/core/engine.h"
#include "sim/serving/dispatcher.h"
#include "sim/core/registry.h"
#include "sim/serving/kv_handoff.h"
#include "sim/serving/replica.h"
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

  // Totals over replicas (with one replica these are its own numbers).
  ReplicaStats stats;
  double kv_mean_sum = 0.0;
  KvCacheStats kv;
  for (Replica* replica : replica_list) {
    const ReplicaStats& r = replica->stats();
    stats.arrived += r.arrived;
    stats.preemptions += r.preemptions;
    stats.swap_outs += r.swap_outs;
    stats.swap_out_bytes += r.swap_out_bytes;
    stats.swap_in_bytes += r.swap_in_bytes;
    stats.busy_s += r.busy_s;
    stats.last_finish_s = std::max(stats.last_finish_s, r.last_finish_s);
    stats.kv_peak_fraction = std::max(stats.kv_peak_fraction, r.kv_peak_fraction);
    stats.peak_running = std::max(stats.peak_running, r.peak_running);
    stats.peak_waiting = std::max(stats.peak_waiting, r.peak_waiting);
    kv_mean_sum += r.kv_used_integral;
    const KvCacheStats& c = replica->cache().stats();
    kv.lookup_tokens += c.lookup_tokens;
    kv.hit_tokens += c.hit_tokens;
    kv.evictions += c.evictions;
  }
  const KvCache& cache = replica_list[0]->cache();

  ServingResult result;
  result.arrived = stats.arrived;
  result.finished = metrics.finished_count();
  result.rejected = metrics.rejected_count();
  result.simulated_s = stats.last_finish_s;
  result.swap_out_bytes = stats.swap_out_bytes;
  result.swap_in_bytes = stats.swap_in_bytes;
  result.iterations = metrics.iterations();
  result.events = engine.events_run();

  const double duration = stats.last_finish_s;
  auto gpus_of = [&](std::size_t i) { return parts[i].gpus > 0 ? parts[i].gpus : inputs.gpus; };
  int64_t all_gpus = 0;
  for (std::size_t i = 0; i < n; ++i) all_gpus += gpus_of(i);
  nlohmann::ordered_json& s = result.summary;
  nlohmann::ordered_json requests;
  requests["arrived"] = stats.arrived;
  requests["finished"] = metrics.finished_count();
  requests["rejected"] = metrics.rejected_count();
  if (!metrics.first_rejection().empty()) requests["first_rejection"] = metrics.first_rejection();
  s["requests"] = requests;
  nlohmann::ordered_json latency = metrics.summary(duration, all_gpus);
  for (const char* key : {"ttft_s", "tpot_s", "e2e_s", "itl_s", "queueing_s"}) s[key] = latency[key];
  s["throughput"] = latency["throughput"];
  double idle_j = 0.0;  // idle power x GPU-seconds without an iteration
  bool idle_known = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double busy = replica_list[i]->stats().busy_s;
    const double idle_w = hardware[i].idle_w_per_gpu;
    idle_known = idle_known && idle_w > 0.0;
    idle_j += idle_w * (duration > busy ? duration - busy : 0.0) * static_cast<double>(gpus_of(i));
  }
  nlohmann::ordered_json energy;
  energy["total_j"] = metrics.energy_j() + idle_j;
  energy["j_per_output_token"] =
      metrics.output_tokens() > 0 ? (metrics.energy_j() + idle_j) / static_cast<double>(metrics.output_tokens()) : 0.0;
  energy["iterations_j"] = metrics.energy_j();
  energy["idle_j"] = idle_j;
  if (!idle_known) energy["note"] = "idle energy not modelled (no idle power for this GPU)";
  // SM clock / boost clock under the power limit: mean over iteration time, and the lowest.
  energy["clock_fraction"] = {{"time_weighted_mean", metrics.mean_clock_fraction()},
                              {"min", metrics.min_clock_fraction()}};
  // The whole platform: the GPUs above plus every other device the platform has.
  std::optional<PlatformEnergy> platform_devices;
  if (cluster) {
    PlatformActivity activity;
    activity.duration_s = duration;
    activity.link_bytes = engine.link_bytes();
    for (int64_t node = 0; node < cluster->nodes() && cluster->has_ssd(); ++node) {
      const DiskId disk = engine.disk(cluster->ssd_disk(node));
      activity.ssd_read_bytes.push_back(engine.disk_bytes(disk, DiskOp::kRead));
      activity.ssd_write_bytes.push_back(engine.disk_bytes(disk, DiskOp::kWrite));
    }
    activity.busy_cores = static_cast<int64_t>(n);  // one serving-engine process per replica
    platform_devices = platform_energy(*cluster, *inputs.cluster, activity);
  } else if (std::all_of(hardware.begin(), hardware.end(), [](const ReplicaHardware& h) { return h.node != nullptr; })) {
    const std::vector<double> bytes = engine.link_bytes();
    auto bytes_on = [&](std::size_t link) { return link == ReplicaLinksPlatform::kNoLink ? 0.0 : bytes.at(link); };
    std::vector<ReplicaHostUse> uses;
    for (std::size_t i = 0; i < n; ++i) {
      ReplicaHostUse use;
      use.node = hardware[i].node;
      use.gpus = gpus_of(i);
      use.host_bytes = bytes_on(separate->host_link(i, true)) + bytes_on(separate->host_link(i, false));
      use.has_cxl = separate->cxl_link(i, true) != ReplicaLinksPlatform::kNoLink;
      use.cxl_bytes = bytes_on(separate->cxl_link(i, true)) + bytes_on(separate->cxl_link(i, false));
      use.has_ssd = offload && inputs.offload.tier == OffloadTierKind::kSsd && separate->has_host_link(i);
      if (use.has_ssd) {
        const DiskId disk = engine.disk(separate->ssd_disk(i));
        use.ssd_read_bytes = engine.disk_bytes(disk, DiskOp::kRead);
        use.ssd_write_bytes = engine.disk_bytes(disk, DiskOp::kWrite);
      }
      uses.push_back(use);
    }
    platform_devices = replicas_host_energy(uses, duration);
  }
  if (platform_devices) {
    const PlatformEnergy& devices = *platform_devices;
    const double gpu_j = metrics.energy_j() + idle_j;
    nlohmann::ordered_json platform_json;
    platform_json["total_j"] = gpu_j + devices.total_j();
    platform_json["j_per_output_token"] =
        metrics.output_tokens() > 0 ? (gpu_j + devices.total_j()) / static_cast<double>(metrics.output_tokens()) : 0.0;
    nlohmann::ordered_json by_device;
    nlohmann::ordered_json gpus_json;
    gpus_json["count"] = all_gpus;
    gpus_json["total_j"] = gpu_j;
    by_device["gpu"] = gpus_json;
    for (const DeviceEnergy& d : devices.devices) {
      nlohmann::ordered_json item;
      item["count"] = d.count;
      item["idle_j"] = d.idle_j;
      item["active_j"] = d.active_j;
      item["total_j"] = d.total_j();
      by_device[d.device] = item;
    }
    platform_json["devices"] = by_device;
    if (!devices.not_given.empty()) {
      platform_json["not_given"] = devices.not_given;  // present, but the catalog gives no power: not charged
    }
    energy["platform"] = platform_json;
  }
  s["energy"] = energy;
  s["preemptions"] = stats.preemptions;
  nlohmann::ordered_json swap;
  swap["swap_outs"] = stats.swap_outs;
  swap["out_bytes"] = stats.swap_out_bytes;
  swap["in_bytes"] = stats.swap_in_bytes;
  s["swap"] = swap;
  s["prefix_hit_rate"] = kv.lookup_tokens > 0 ? static_cast<double>(kv.hit_tokens) / static_cast<double>(kv.lookup_tokens) : 0.0;
  s["prefix_hit_tokens"] = kv.hit_tokens;
  nlohmann::ordered_json kv_json;
  kv_json["block_tokens"] = cache.block_tokens();
  kv_json["blocks"] = cache.total_blocks();  // per replica
  kv_json["capacity_tokens"] = cache.total_blocks() * cache.block_tokens();
  kv_json["mean_utilization"] = duration > 0.0 ? kv_mean_sum / static_cast<double>(n) / duration : 0.0;
  kv_json["peak_utilization"] = stats.kv_peak_fraction;
  kv_json["evictions"] = kv.evictions;
  kv_json["samples"] = "kv_utilization.csv";
  s["kv_cache"] = kv_json;
  if (offload) {
    int64_t stored = 0, resident = 0, dropped = 0, hit_tokens = 0, loads = 0;
    double load_bytes = 0.0, store_bytes = 0.0;
    for (Replica* replica : replica_list) {
      const ReplicaStats& r = replica->stats();
      hit_tokens += r.offload_hit_tokens;
      loads += r.offload_loads;
      load_bytes += r.offload_load_bytes;
      store_bytes += r.offload_store_bytes;
      if (const KvOffloadTier* tier = replica->offload_tier()) {
        stored += tier->stats().stored_blocks;
        dropped += tier->stats().evicted_blocks;
        resident += tier->resident_blocks();
      }
    }
    nlohmann::ordered_json o;
    o["tier"] = offload_tier_name(inputs.offload.tier);
    o["capacity_blocks"] = inputs.offload.capacity_blocks;  // per replica
    o["stored_blocks"] = stored;
    o["resident_blocks"] = resident;
    o["evicted_blocks"] = dropped;
    o["loads"] = loads;
    o["hit_tokens"] = hit_tokens;
    o["load_bytes"] = load_bytes;
    o["store_bytes"] = store_bytes;
    s["offload"] = o;
  }
  s["slo"] = latency["slo"];
  s["simulated_s"] = duration;
  s["iterations"] = metrics.iterations();
  s["busy_s"] = stats.busy_s;
  s["peak_running"] = stats.peak_running;
  s["peak_waiting"] = stats.peak_waiting;
  // Pipeline-parallel replicas: stages, lanes and how busy each stage was (the rest is bubble).
  auto pipeline_json = [&](const Replica& replica, std::size_t i) {
    const PipelineStages& p = replica.pipeline();
    nlohmann::ordered_json o;
    o["stages"] = p.stages();
    o["micro_batches"] = parts[i].micro_batches;
    nlohmann::ordered_json busy = nlohmann::ordered_json::array();
    for (int64_t k = 0; k < p.stages(); ++k) busy.push_back(duration > 0.0 ? p.busy_s(k) / duration : 0.0);
    o["stage_busy_fraction"] = busy;
    return o;
  };
  if (!data_parallel && replica_list[0]->pipeline().stages() > 1) s["pipeline"] = pipeline_json(*replica_list[0], 0);
  if (data_parallel) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (Replica* replica : replica_list) {
      const ReplicaStats& r = replica->stats();
      nlohmann::ordered_json item;
      item["replica"] = replica->index();
      if (disaggregated) {
        const bool prefill = replica->role() == ReplicaRole::kPrefill;
        item["role"] = prefill ? "prefill" : "decode";
        const std::size_t i = static_cast<std::size_t>(replica->index());
        item["gpus"] = gpus_of(i);
        if (!hardware[i].name.empty()) item["hardware"] = hardware[i].name;
        if (prefill) {
          item["handed_off"] = r.handed_off;
        } else {
          item["received"] = r.received;
        }
      }
      item["requests"] = r.arrived;
      item["finished"] = r.finished;
      item["rejected"] = r.rejected;
      item["output_tokens"] = r.output_tokens;
      item["busy_s"] = r.busy_s;
      item["busy_fraction"] = duration > 0.0 ? r.busy_s / duration : 0.0;
      item["preemptions"] = r.preemptions;
      item["peak_running"] = r.peak_running;
      item["peak_waiting"] = r.peak_waiting;
      if (replica->pipeline().stages() > 1) {
        item["pipeline"] = pipeline_json(*replica, static_cast<std::size_t>(replica->index()));
      }
      list.push_back(item);
    }
    s["replicas"] = list;
  }
  if (cluster) {
    nlohmann::ordered_json c;
    c["nodes"] = cluster->nodes();
    c["gpus"] = cluster->gpus();
    c["gpus_used"] = all_gpus;
    c["nics"] = cluster->nics();
    c["switches"] = cluster->switches();
    c["topology"] = inputs.cluster->nodes > 1 ? inputs.cluster->network.topology : "none (one node)";
    nlohmann::ordered_json placed = nlohmann::ordered_json::array();
    for (const auto& gpus : inputs.placement) placed.push_back(gpus);
    c["placement"] = placed;
    s["cluster"] = c;
  }
  if (disaggregated) {
    const KvHandoffStats& h = handoff->stats();
    nlohmann::ordered_json d;
    d["prefill_replicas"] = static_cast<int64_t>(prefill_count);
    d["decode_replicas"] = static_cast<int64_t>(n - prefill_count);
    if (cluster) {
      d["kv_path"] = "cluster network (each GPU sends its share to the decode GPU of its rank)";
    } else {
      d["kv_link_bytes_per_s"] = inputs.disaggregation.kv_link_bytes_per_s;
      d["kv_link_latency_s"] = inputs.disaggregation.kv_link_latency_s;
    }
    d["kv_transfers"] = h.transfers;
    d["kv_transfer_bytes"] = h.bytes;
    const double count = h.transfers > 0 ? static_cast<double>(h.transfers) : 1.0;
    d["kv_wait_s_mean"] = h.wait_s / count;
    d["kv_wait_s_max"] = h.max_wait_s;
    d["kv_transfer_s_mean"] = h.transfer_s / count;
    s["disaggregation"] = d;
  }

  if (inputs.distributions) {
    ServingDistributions& dist = result.distributions;
    for (Replica* replica : replica_list) {
      const auto& samples = replica->kv_samples();
      const std::size_t stride = samples.size() / ServingDistributions::kMaxKvPoints + 1;
      std::vector<std::pair<double, double>> points;
      for (std::size_t k = 0; k < samples.size(); k += stride) points.push_back(samples[k]);
      dist.kv_used.push_back(std::move(points));
    }
    dist.ttft_s = quantiles(metrics.ttft_values(), ServingDistributions::kQuantileSteps);
    dist.tpot_s = quantiles(metrics.tpot_values(), ServingDistributions::kQuantileSteps);
    dist.e2e_s = quantiles(metrics.e2e_values(), ServingDistributions::kQuantileSteps);
    dist.queueing_s = quantiles(metrics.queueing_values(), ServingDistributions::kQuantileSteps);
  }

  if (inputs.requests_csv_sink) {
    metrics.flush_csv();
  } else {
    result.requests_csv = metrics.take_csv();
  }
  std::string& kv_csv = result.kv_csv;
  char line[80];
  if (!data_parallel) {
    kv_csv = "time_s,kv_used_fraction\n";
    for (const auto& [t, f] : replica_list[0]->kv_samples()) {
      std::snprintf(line, sizeof line, "%.9g,%.6f\n", t, f);
      kv_csv += line;
    }
  } else {
    kv_csv = "time_s,replica,kv_used_fraction\n";
    for (Replica* replica : replica_list) {
      for (const auto& [t, f] : replica->kv_samples()) {
        std::snprintf(line, sizeof line, "%.9g,%d,%.6f\n", t, replica->index(), f);
        kv_csv += line;
      }
    }
  }
  if (timeline) result.timeline_json = timeline->finish();
  return result;
}

}  // namespace servesim

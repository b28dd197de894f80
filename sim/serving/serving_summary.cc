#include "sim/serving/serving_summary.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>

#include "hardware/platform/platform_energy.h"
#include "sim/serving/kv_handoff.h"
#include "traces/timeline_writer.h"

namespace servesim {

namespace {

int64_t gpus_of(const FinishedRun& run, std::size_t i) {
  return run.parts[i].gpus > 0 ? run.parts[i].gpus : run.inputs.gpus;
}

// The devices besides the GPUs and what they did: the cluster's, or (without one) those of the nodes the
// replicas are packed on; none when a replica's node is not known.
std::optional<PlatformEnergy> platform_devices(const FinishedRun& run, double duration) {
  Engine& engine = run.engine;
  const std::size_t n = run.replicas.size();
  if (const ClusterPlatform* cluster = run.cluster) {
    PlatformActivity activity;
    activity.duration_s = duration;
    activity.link_bytes = engine.link_bytes();
    for (int64_t node = 0; node < cluster->nodes() && cluster->has_ssd(); ++node) {
      const DiskId disk = engine.disk(cluster->ssd_disk(node));
      activity.ssd_read_bytes.push_back(engine.disk_bytes(disk, DiskOp::kRead));
      activity.ssd_write_bytes.push_back(engine.disk_bytes(disk, DiskOp::kWrite));
    }
    activity.busy_cores = static_cast<int64_t>(n);  // one serving-engine process per replica
    return platform_energy(*cluster, *run.inputs.cluster, activity);
  }
  const std::vector<ReplicaHardware>& hardware = run.hardware;
  if (!std::all_of(hardware.begin(), hardware.end(), [](const ReplicaHardware& h) { return h.node != nullptr; })) {
    return std::nullopt;
  }
  const ReplicaLinksPlatform& separate = *run.separate;
  const std::vector<double>& bytes = engine.link_bytes();
  auto bytes_on = [&](std::size_t link) { return link == ReplicaLinksPlatform::kNoLink ? 0.0 : bytes.at(link); };
  std::vector<ReplicaHostUse> uses;
  for (std::size_t i = 0; i < n; ++i) {
    ReplicaHostUse use;
    use.node = hardware[i].node;
    use.gpus = gpus_of(run, i);
    use.host_bytes = bytes_on(separate.host_link(i, true)) + bytes_on(separate.host_link(i, false));
    use.has_cxl = separate.cxl_link(i, true) != ReplicaLinksPlatform::kNoLink;
    use.cxl_bytes = bytes_on(separate.cxl_link(i, true)) + bytes_on(separate.cxl_link(i, false));
    use.has_ssd = run.offload && run.inputs.offload.tier == OffloadTierKind::kSsd && separate.has_host_link(i);
    if (use.has_ssd) {
      const DiskId disk = engine.disk(separate.ssd_disk(i));
      use.ssd_read_bytes = engine.disk_bytes(disk, DiskOp::kRead);
      use.ssd_write_bytes = engine.disk_bytes(disk, DiskOp::kWrite);
    }
    uses.push_back(use);
  }
  return replicas_host_energy(uses, duration);
}

// summary.json's energy.platform: the GPUs (gpu_j) and every other device, per device and per output token.
nlohmann::ordered_json platform_energy_json(const PlatformEnergy& devices, double gpu_j, int64_t gpus,
                                            int64_t output_tokens) {
  nlohmann::ordered_json platform_json;
  platform_json["total_j"] = gpu_j + devices.total_j();
  platform_json["j_per_output_token"] =
      output_tokens > 0 ? (gpu_j + devices.total_j()) / static_cast<double>(output_tokens) : 0.0;
  nlohmann::ordered_json by_device;
  nlohmann::ordered_json gpus_json;
  gpus_json["count"] = gpus;
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
  return platform_json;
}

// kv_utilization.csv: (time, used fraction) samples, with the replica's index when there are several.
std::string kv_utilization_csv(const std::vector<Replica*>& replicas) {
  std::string csv;
  char line[80];
  if (replicas.size() == 1) {
    csv = "time_s,kv_used_fraction\n";
    for (const auto& [t, f] : replicas[0]->kv_samples()) {
      std::snprintf(line, sizeof line, "%.9g,%.6f\n", t, f);
      csv += line;
    }
    return csv;
  }
  csv = "time_s,replica,kv_used_fraction\n";
  for (const Replica* replica : replicas) {
    for (const auto& [t, f] : replica->kv_samples()) {
      std::snprintf(line, sizeof line, "%.9g,%d,%.6f\n", t, replica->index(), f);
      csv += line;
    }
  }
  return csv;
}

}  // namespace

ServingResult summarize_run(const FinishedRun& run) {
  const ServingInputs& inputs = run.inputs;
  const std::vector<ReplicaParts>& parts = run.parts;
  const std::vector<ReplicaHardware>& hardware = run.hardware;
  const std::vector<Replica*>& replica_list = run.replicas;
  Metrics& metrics = run.metrics;
  Engine& engine = run.engine;
  const ClusterPlatform* cluster = run.cluster;
  const KvHandoff* handoff = run.handoff;
  TimelineWriter* timeline = run.timeline;
  const std::size_t prefill_count = run.prefill_count;
  const bool offload = run.offload;
  const std::size_t n = replica_list.size();
  const bool data_parallel = n > 1;
  const bool disaggregated = prefill_count > 0;

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
  auto gpus_of = [&](std::size_t i) { return servesim::gpus_of(run, i); };
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
  if (const std::optional<PlatformEnergy> devices = platform_devices(run, duration)) {
    energy["platform"] = platform_energy_json(*devices, metrics.energy_j() + idle_j, all_gpus, metrics.output_tokens());
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
  result.kv_csv = kv_utilization_csv(replica_list);
  if (timeline) result.timeline_json = timeline->finish();
  return result;
}

}  // namespace servesim

#include "sim/serving/serving_run.h"

#include <cstdio>
#include <memory>

#include "sim/engine.h"
#include "sim/serving/replica.h"
#include "traces/timeline_writer.h"

namespace servesim {
namespace {

PlatformSpec host_link_platform(const HostLinkSpec& link) {
  PlatformSpec spec;
  spec.endpoints = {"gpu", "host"};
  if (link.d2h_bytes_per_s > 0.0 && link.h2d_bytes_per_s > 0.0) {
    spec.links = {{"d2h", link.d2h_bytes_per_s, link.latency_s}, {"h2d", link.h2d_bytes_per_s, link.latency_s}};
    spec.routes = {{"gpu", "host", {"d2h"}, false}, {"host", "gpu", {"h2d"}, false}};
  }
  return spec;
}

// A thin wrapper so the progress hook runs every few thousand iterations without touching the replica.
class CountingModel : public ExecutionModel {
 public:
  CountingModel(ExecutionModel& inner, const std::function<void(double, int64_t)>& progress, const Engine& engine,
                const Metrics& metrics)
      : inner_(inner), progress_(progress), engine_(engine), metrics_(metrics) {}
  IterationPrediction predict(const BatchShape& batch) const override { return inner_.predict(batch); }
  IterationTiming timing(const BatchShape& batch) override {
    if ((++calls_ & 16383) == 0 && progress_) progress_(engine_.now(), metrics_.finished_count());
    return inner_.timing(batch);
  }

 private:
  ExecutionModel& inner_;
  const std::function<void(double, int64_t)>& progress_;
  const Engine& engine_;
  const Metrics& metrics_;
  uint64_t calls_ = 0;
};

}  // namespace

ServingResult run_serving(const ServingInputs& inputs, ExecutionModel& model, Scheduler& scheduler, KvCache& cache,
                          TraceSource& source) {
  Engine engine(host_link_platform(inputs.host_link));
  Metrics metrics(inputs.slo);
  std::unique_ptr<TimelineWriter> timeline;
  if (inputs.timeline) timeline = std::make_unique<TimelineWriter>();
  const bool has_link = inputs.host_link.d2h_bytes_per_s > 0.0 && inputs.host_link.h2d_bytes_per_s > 0.0;

  ReplicaParams params;
  params.kv_bytes_per_token = inputs.kv_bytes_per_token_replica;
  params.host_memory_bytes = has_link ? inputs.host_memory_bytes : 0.0;
  params.max_context_tokens = inputs.max_context_tokens;
  params.oversize_is_error = inputs.oversize_is_error;
  params.kv_sample_interval_s = inputs.kv_sample_interval_s;
  params.gpu = engine.endpoint("gpu");
  params.host = engine.endpoint("host");

  CountingModel counted(model, inputs.progress, engine, metrics);
  Replica replica(engine, counted, scheduler, cache, source, metrics, params, timeline.get());
  replica.start();
  engine.run();

  const ReplicaStats& stats = replica.stats();
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
  nlohmann::ordered_json& s = result.summary;
  nlohmann::ordered_json requests;
  requests["arrived"] = stats.arrived;
  requests["finished"] = metrics.finished_count();
  requests["rejected"] = metrics.rejected_count();
  if (!metrics.first_rejection().empty()) requests["first_rejection"] = metrics.first_rejection();
  s["requests"] = requests;
  nlohmann::ordered_json latency = metrics.summary(duration, inputs.gpus);
  for (const char* key : {"ttft_s", "tpot_s", "e2e_s", "itl_s", "queueing_s"}) s[key] = latency[key];
  s["throughput"] = latency["throughput"];
  const double idle_s = duration > stats.busy_s ? duration - stats.busy_s : 0.0;
  const double idle_j = inputs.idle_w_per_gpu * static_cast<double>(inputs.gpus) * idle_s;
  nlohmann::ordered_json energy;
  energy["total_j"] = metrics.energy_j() + idle_j;
  energy["j_per_output_token"] =
      metrics.output_tokens() > 0 ? (metrics.energy_j() + idle_j) / static_cast<double>(metrics.output_tokens()) : 0.0;
  energy["iterations_j"] = metrics.energy_j();
  energy["idle_j"] = idle_j;
  if (inputs.idle_w_per_gpu <= 0.0) energy["note"] = "idle energy not modelled (no idle power for this GPU)";
  s["energy"] = energy;
  s["preemptions"] = stats.preemptions;
  nlohmann::ordered_json swap;
  swap["swap_outs"] = stats.swap_outs;
  swap["out_bytes"] = stats.swap_out_bytes;
  swap["in_bytes"] = stats.swap_in_bytes;
  s["swap"] = swap;
  const KvCacheStats& kv = cache.stats();
  s["prefix_hit_rate"] = kv.lookup_tokens > 0 ? static_cast<double>(kv.hit_tokens) / static_cast<double>(kv.lookup_tokens) : 0.0;
  s["prefix_hit_tokens"] = kv.hit_tokens;
  nlohmann::ordered_json kv_json;
  kv_json["block_tokens"] = cache.block_tokens();
  kv_json["blocks"] = cache.total_blocks();
  kv_json["capacity_tokens"] = cache.total_blocks() * cache.block_tokens();
  kv_json["mean_utilization"] = duration > 0.0 ? stats.kv_used_integral / duration : 0.0;
  kv_json["peak_utilization"] = stats.kv_peak_fraction;
  kv_json["evictions"] = kv.evictions;
  kv_json["samples"] = "kv_utilization.csv";
  s["kv_cache"] = kv_json;
  s["slo"] = latency["slo"];
  s["simulated_s"] = duration;
  s["iterations"] = metrics.iterations();
  s["busy_s"] = stats.busy_s;
  s["peak_running"] = stats.peak_running;
  s["peak_waiting"] = stats.peak_waiting;

  result.requests_csv = metrics.take_csv();
  std::string& kv_csv = result.kv_csv;
  kv_csv = "time_s,kv_used_fraction\n";
  char line[64];
  for (const auto& [t, f] : replica.kv_samples()) {
    std::snprintf(line, sizeof line, "%.9g,%.6f\n", t, f);
    kv_csv += line;
  }
  if (timeline) result.timeline_json = timeline->finish();
  return result;
}

}  // namespace servesim

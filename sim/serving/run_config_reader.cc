#include "sim/serving/run_config_reader.h"

#include <cmath>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "sim/core/config_error.h"
#include "sim/core/registry.h"
#include "workloads/generator.h"

namespace servesim {
namespace {

const char* base_unit(Dimension dimension) {
  switch (dimension) {
    case Dimension::kBytes: return "B";
    case Dimension::kBytesPerSecond: return "B/s";
    case Dimension::kSeconds: return "s";
    case Dimension::kWatts: return "W";
    case Dimension::kJoules: return "J";
    case Dimension::kFlopsPerSecond: return "FLOP/s";
    case Dimension::kHertz: return "Hz";
  }
  return "";
}

std::string quantity_text(double value, Dimension dimension) {
  char text[64];
  std::snprintf(text, sizeof text, "%.9g %s", value, base_unit(dimension));
  return text;
}

// `extra` reads keys of the component's object beyond its impl params (before unknown keys are rejected).
template <class Interface>
ComponentChoice read_component(ConfigNode& parent, const std::string& key, const std::string& default_impl,
                               const std::function<void(ConfigNode&, ComponentChoice&)>& extra = {}) {
  ComponentChoice choice;
  if (!parent.has(key)) {
    const auto* entry = Registry<Interface>::instance().find(default_impl);
    choice.impl = default_impl;
    choice.params = default_params(entry->info.params);
    choice.resolved["impl"] = default_impl;
    choice.resolved.update(params_to_json(entry->info.params, choice.params));
    return choice;
  }
  ConfigNode node = parent.child(key);
  node.require_object();
  choice.impl = node.choice("impl", Registry<Interface>::instance().names(), default_impl);
  const auto* entry = Registry<Interface>::instance().find(choice.impl);
  choice.params = read_params(node, entry->info.params);
  choice.resolved["impl"] = choice.impl;
  choice.resolved.update(params_to_json(entry->info.params, choice.params));
  if (extra) extra(node, choice);
  node.finish();
  return choice;
}

}  // namespace

nlohmann::ordered_json params_to_json(const ParamSpecs& specs, const ParamValues& values) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const ParamSpec& spec : specs) {
    switch (spec.type) {
      case ParamType::kInteger: out[spec.name] = values.integer(spec.name); break;
      case ParamType::kNumber: out[spec.name] = values.number(spec.name); break;
      case ParamType::kQuantity: out[spec.name] = quantity_text(values.number(spec.name), spec.dimension); break;
      case ParamType::kString: out[spec.name] = values.string(spec.name); break;
      case ParamType::kBoolean: out[spec.name] = values.boolean(spec.name); break;
    }
  }
  return out;
}

RunConfig read_run_config(ConfigNode& root) {
  RunConfig config;
  config.scheduler = read_component<Scheduler>(root, "scheduler", "vllm");
  config.cache = read_component<KvCache>(root, "cache", "paged", [&config](ConfigNode& cache, ComponentChoice& choice) {
    if (!cache.is_object() || !cache.has("offload")) return;
    ConfigNode offload = cache.child("offload");
    offload.require_object();
    config.offload.enabled = true;
    config.offload.tier = offload.choice("tier", {"host", "cxl", "ssd"});
    config.offload.capacity_bytes = offload.quantity("capacity", Dimension::kBytes);
    offload.finish();
    choice.resolved["offload"] = {{"tier", config.offload.tier},
                                  {"capacity", quantity_text(config.offload.capacity_bytes, Dimension::kBytes)}};
  });
  config.router_given = root.has("router");
  config.router = read_component<Router>(root, "router", "round-robin");

  WorkloadChoice& w = config.workload;
  w.file = root.file();
  ConfigNode workload = root.child("workload");
  workload.require_object();
  w.oversize_is_error = workload.choice("oversized", {"error", "reject"}, "error") == "error";
  const bool has_trace = workload.has("trace");
  const bool has_generator = workload.has("generator");
  if (has_trace == has_generator) workload.fail("give exactly one of \"trace\" or \"generator\"");
  if (has_trace) {
    w.is_trace = true;
    ConfigNode trace = workload.child("trace");
    trace.require_object();
    w.source.impl = trace.choice("format", Registry<TraceSource>::instance().names());
    const std::string path = trace.string("path");
    std::filesystem::path resolved(path);
    if (resolved.is_relative()) resolved = std::filesystem::path(root.file()).parent_path() / resolved;
    w.trace_path = resolved.lexically_normal().string();
    std::error_code status_error;
    const auto status = std::filesystem::status(w.trace_path, status_error);
    if (!std::filesystem::exists(status)) {
      trace.fail("path", "trace file '" + w.trace_path + "' not found");
    } else if (std::filesystem::is_directory(status)) {
      trace.fail("path", "trace path '" + w.trace_path + "' is a directory, not a file");
    } else if (!std::filesystem::is_regular_file(status)) {
      trace.fail("path", "trace path '" + w.trace_path + "' is not a regular file (a device, pipe or socket)");
    }
    w.start_s = trace.quantity("start", Dimension::kSeconds, 0.0, true);
    w.end_s = trace.quantity("end", Dimension::kSeconds, 0.0, true);
    if (w.end_s > 0.0 && w.end_s <= w.start_s) trace.fail("end", "must be later than start");
    w.rate_scale = trace.number("rate_scale", 1e-6, 1e6, 1.0);
    w.max_requests = trace.integer("max_requests", 0, int64_t{1} << 40, 0);
    const auto* entry = Registry<TraceSource>::instance().find(w.source.impl);
    w.source.params = read_params(trace, entry->info.params);
    trace.finish();
    w.source.resolved["format"] = w.source.impl;
    w.source.resolved["path"] = w.trace_path;
    w.source.resolved["start"] = quantity_text(w.start_s, Dimension::kSeconds);
    if (w.end_s > 0.0) w.source.resolved["end"] = quantity_text(w.end_s, Dimension::kSeconds);
    w.source.resolved["rate_scale"] = w.rate_scale;
    w.source.resolved["max_requests"] = w.max_requests;
    w.source.resolved.update(params_to_json(entry->info.params, w.source.params));
    w.resolved["trace"] = w.source.resolved;
  } else {
    ConfigNode generator = workload.child("generator");
    generator.require_object();
    w.source.impl = generator.choice("impl", Registry<WorkloadGenerator>::instance().names());
    const auto* entry = Registry<WorkloadGenerator>::instance().find(w.source.impl);
    w.source.params = read_params(generator, entry->info.params);
    generator.finish();
    w.source.resolved["impl"] = w.source.impl;
    w.source.resolved.update(params_to_json(entry->info.params, w.source.params));
    w.resolved["generator"] = w.source.resolved;
  }
  w.resolved["oversized"] = w.oversize_is_error ? "error" : "reject";
  workload.finish();

  nlohmann::ordered_json slo = nlohmann::ordered_json::object();
  if (root.has("slo")) {
    ConfigNode node = root.child("slo");
    node.require_object();
    config.slo.ttft_s = node.quantity("ttft", Dimension::kSeconds, 0.0, true);
    config.slo.tpot_s = node.quantity("tpot", Dimension::kSeconds, 0.0, true);
    node.finish();
  }
  if (config.slo.ttft_s > 0.0) slo["ttft"] = quantity_text(config.slo.ttft_s, Dimension::kSeconds);
  if (config.slo.tpot_s > 0.0) slo["tpot"] = quantity_text(config.slo.tpot_s, Dimension::kSeconds);
  config.kv_sample_interval_s = root.quantity("kv_sample_interval", Dimension::kSeconds, 1.0);

  config.resolved["scheduler"] = config.scheduler.resolved;
  config.resolved["cache"] = config.cache.resolved;
  // Written only when given, so single-replica configs resolve as before routers existed.
  if (config.router_given) config.resolved["router"] = config.router.resolved;
  config.resolved["workload"] = w.resolved;
  config.resolved["slo"] = slo;
  config.resolved["kv_sample_interval"] = quantity_text(config.kv_sample_interval_s, Dimension::kSeconds);
  return config;
}

std::unique_ptr<Scheduler> make_scheduler(const ComponentChoice& choice) {
  return Registry<Scheduler>::instance().find(choice.impl)->factory(choice.params);
}

std::unique_ptr<KvCache> make_kv_cache(const ComponentChoice& choice, int64_t capacity_tokens) {
  return Registry<KvCache>::instance().find(choice.impl)->factory(choice.params, capacity_tokens);
}

MemoryBudgetParams memory_budget_params(const ComponentChoice& cache, int64_t max_batched_tokens) {
  MemoryBudgetParams memory;
  memory.gpu_memory_utilization = cache.params.number("gpu_memory_utilization");
  memory.max_batched_tokens = max_batched_tokens;
  memory.non_torch_bytes = cache.params.number("non_torch_memory");
  memory.cuda_graph_bytes = cache.params.number("cuda_graph_memory");
  return memory;
}

ComponentChoice read_router(ConfigNode& parent, const std::string& key, const std::string& default_impl) {
  return read_component<Router>(parent, key, default_impl);
}

std::unique_ptr<Router> make_router(const ComponentChoice& choice) {
  return Registry<Router>::instance().find(choice.impl)->factory(choice.params);
}

namespace {

// A source whose first request has already been read (to know, before simulating, that there is one).
class ReadAheadSource : public TraceSource {
 public:
  ReadAheadSource(std::unique_ptr<TraceSource> inner, RequestSpec first)
      : inner_(std::move(inner)), first_(std::move(first)) {}
  bool next(RequestSpec& out) override {
    if (has_first_) {
      has_first_ = false;
      out = std::move(first_);
      return true;
    }
    return inner_->next(out);
  }
  const std::string& origin() const override { return inner_->origin(); }

 private:
  std::unique_ptr<TraceSource> inner_;
  RequestSpec first_;
  bool has_first_ = true;
};

}  // namespace

std::unique_ptr<TraceSource> open_workload(const WorkloadChoice& w) {
  std::unique_ptr<TraceSource> source;
  if (!w.is_trace) {
    source = Registry<WorkloadGenerator>::instance().find(w.source.impl)->factory(w.source.params, w.file);
  } else {
    auto trace = Registry<TraceSource>::instance().find(w.source.impl)->factory(w.source.params, w.trace_path);
    const double end = w.end_s > 0.0 ? w.end_s : std::numeric_limits<double>::infinity();
    source = transform_trace(std::move(trace), w.start_s, end, w.rate_scale, w.max_requests);
  }
  // A workload without one request would "succeed" with empty results: say why instead.
  RequestSpec first;
  if (!source->next(first)) {
    if (!w.is_trace) throw ConfigError::at_pointer(w.file, "/workload/generator", "generates no requests");
    std::string window = "[";  // (built stepwise: GCC 12 misreports "[" + string as overlapping memcpy)
    window += quantity_text(w.start_s, Dimension::kSeconds);
    window += ", ";
    window += w.end_s > 0.0 ? quantity_text(w.end_s, Dimension::kSeconds) : std::string("end");
    window += ")";
    throw ConfigError::at_pointer(w.file, "/workload/trace",
                                  "no request of trace '" + w.trace_path + "' arrives in the window start..end " +
                                      window + " (times from the trace's first request)");
  }
  return std::make_unique<ReadAheadSource>(std::move(source), std::move(first));
}

}  // namespace servesim

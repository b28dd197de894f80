// `servesim step FILE.json`: predicts one engine iteration and prints it as one JSON object.
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "models/execution/deployment.h"
#include "sim/config/deployment_reader.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"
#include "tools/command.h"
#include "tools/command_line.h"

namespace servesim {
namespace {

// Bounds far beyond any engine (vLLM batches thousands of sequences of at most ~1M tokens) that keep
// every count the model multiplies (sequences x tokens x heads x head_dim x bytes) inside int64.
constexpr int64_t kMaxSequences = int64_t{1} << 20;
constexpr int64_t kMaxSequenceTokens = int64_t{1} << 24;
constexpr int64_t kMaxBatchTokens = int64_t{1} << 36;  // prompt + context tokens of the whole batch

int64_t positive_count(const ConfigNode& node, const char* what, int64_t max) {
  if (!node.value().is_number_integer()) {
    node.fail("expected an integer " + std::string(what) + ", got " + describe_json_value(node.value()));
  }
  if (node.value().is_number_unsigned() && node.value().get<uint64_t>() > static_cast<uint64_t>(max)) {
    node.fail("bad value " + describe_json_value(node.value()) + ": " + what + " must be at most " +
              std::to_string(max));
  }
  const int64_t value = node.value().get<int64_t>();
  if (value <= 0) node.fail("bad value " + describe_json_value(node.value()) + ": " + what + " must be positive");
  if (value > max) {
    node.fail("bad value " + describe_json_value(node.value()) + ": " + what + " must be at most " +
              std::to_string(max));
  }
  return value;
}

BatchShape read_batch(ConfigNode& root) {
  BatchShape batch;
  ConfigNode list = root.child("batch");
  if (!list.is_array() || list.size() == 0) {
    list.fail("expected a non-empty array of [\"prefill\", B, S] or [\"decode\", B, C] entries");
  }
  int64_t total_tokens = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    ConfigNode entry = list.element(i);
    if (!entry.is_array() || entry.size() != 3 || !entry.element(0).is_string()) {
      entry.fail("malformed batch entry " + describe_json_value(entry.value()) +
                 ": expected [\"prefill\", B, S] or [\"decode\", B, C]");
    }
    const std::string kind = entry.element(0).as_string();
    if (kind != "prefill" && kind != "decode") {
      entry.element(0).fail("unknown segment kind '" + kind + "'; allowed: prefill, decode");
    }
    const int64_t sequences = positive_count(entry.element(1), "batch size", kMaxSequences);
    const int64_t tokens = positive_count(entry.element(2), kind == "prefill" ? "prompt length" : "context length",
                                          kMaxSequenceTokens);
    total_tokens += sequences * tokens;  // each term < 2^44, the sum stays below kMaxBatchTokens + 2^44
    if (total_tokens > kMaxBatchTokens) {
      entry.fail("the batch holds more than " + std::to_string(kMaxBatchTokens) +
                 " tokens (batch size x prompt or context length, summed over the entries)");
    }
    batch.segments.push_back(kind == "prefill" ? Segment{sequences, tokens, 0} : Segment{sequences, 1, tokens});
  }
  return batch;
}

nlohmann::json to_json(const IterationPrediction& p, const Precision& precision) {
  nlohmann::json out;
  out["precision"] = {{"weights", dtype_name(precision.weights)},
                      {"activations", dtype_name(precision.activations)},
                      {"kv_cache", dtype_name(precision.kv_cache)}};
  out["iteration_s"] = p.iteration_s;
  out["stage_s"] = p.stage_s;
  out["compute_s"] = p.compute_s;
  out["communication_s"] = p.communication_s;
  out["host_s"] = p.host_s;
  out["energy_j"] = p.energy_j;
  out["clock_fraction"] = p.clock_fraction;
  nlohmann::json ops = nlohmann::json::array();
  for (const OpCost& op : p.ops) {
    ops.push_back({{"name", op.name},
                   {"count", op.count},
                   {"seconds", op.seconds},
                   {"bound", bound_name(op.bound)},
                   {"provenance", provenance_name(op.provenance)}});
    if (!op.dtype.empty()) ops.back()["dtype"] = op.dtype;
  }
  out["ops"] = ops;
  out["provenance"] = provenance_name(p.provenance);
  return out;
}

int run_step(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  std::string file;
  bool timing = false;
  options.add_options()("file", po::value<std::string>(&file)->required(), "the step description (JSON)")(
      "time", po::bool_switch(&timing), "also print how long the prediction took (to stderr)");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vars;
  if (!parse_command_line(
          "step", "FILE.json",
          "Predicts one engine iteration. FILE.json:\n"
          "  {\"hardware\": \"h100-sxm\", \"model\": \"llama-3.1-8b\", \"engine\": \"reference-graph\",\n"
          "   \"plan\": {\"tp\": 1, \"pp\": 1}, \"batch\": [[\"prefill\", 1, 2048], [\"decode\", 64, 1024]],\n"
          "   \"gpu_memory_utilization\": 0.9,\n"
          "   \"precision\": {\"weights\": \"fp8\", \"activations\": \"fp8\", \"kv_cache\": \"bf16\"}}\n"
          "precision is optional (default: the model's checkpoint dtype, bf16 GEMMs).\n"
          "hardware / model / engine are catalog names or inline objects. [\"prefill\", B, S] = B sequences\n"
          "of S new tokens; [\"decode\", B, C] = B sequences adding one token to C cached tokens.\n"
          "Prints precision, iteration_s (the batch through every pipeline stage, sends included: a token's\n"
          "latency), stage_s (the slowest stage: with enough batches in flight, one batch leaves the\n"
          "pipeline every stage_s), compute_s, communication_s and host_s (summed over the stages),\n"
          "energy_j (all GPUs of the plan), clock_fraction (SM clock / boost clock under the GPU's power\n"
          "limit; pipelines: the lowest stage's), ops (summed over the stages, at the boost clock; GEMMs with\n"
          "their compute dtype; power_limited_clock: the time the lower clock adds), provenance and\n"
          "engine_version (the engine release the profile models, when it states one).",
          options, positional, args, &vars)) {
    return 0;
  }
  const auto start = std::chrono::steady_clock::now();
  ConfigNode root(load_json_file(file), file);
  root.require_object();
  Deployment deployment = read_deployment(root);
  if (deployment.plan.dp != 1) {
    throw ConfigError::at_pointer(file, "/plan/dp",
                                  "step predicts one replica's iteration; dp " + std::to_string(deployment.plan.dp) +
                                      " (identical replicas behind a router) applies to run and sweep only");
  }
  BatchShape batch = read_batch(root);
  const double utilization = root.number("gpu_memory_utilization", 0.05, 1.0, 0.9);
  root.finish();
  int64_t tokens = 0;
  for (const Segment& s : batch.segments) tokens += s.sequences * s.new_tokens;
  try {
    kv_budget(deployment, utilization, tokens);
  } catch (const std::invalid_argument& error) {
    throw ConfigError::at_pointer(file, "/plan", std::string("the plan does not fit in GPU memory: ") + error.what());
  }
  const IterationPrediction prediction = make_execution_model(deployment)->predict(batch);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json out = to_json(prediction, deployment.precision);
  if (!deployment.engine.version.empty()) out["engine_version"] = deployment.engine.version;
  std::printf("%s\n", out.dump().c_str());
  if (timing) std::fprintf(stderr, "step took %.3f ms\n", elapsed * 1e3);
  return 0;
}

}  // namespace

SERVESIM_COMMAND("step", "predict one engine iteration (time, energy, per-op breakdown) for a batch", run_step);

}  // namespace servesim

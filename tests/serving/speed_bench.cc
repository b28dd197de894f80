// Speed benchmark of the serving core (not a test): one h100-sxm replica with
// llama-3.1-8b (vllm scheduler, paged KV with prefix caching) replays the Azure
// conversation trace and the Mooncake conversation trace from ../shared/data,
// then a 1M-request generated workload. Prints wall time, simulated requests
// per wall-second, simulated/real time ratio and peak RSS. Each scenario runs
// in its own child process (one simulation engine per process; clean RSS).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "models/execution/deployment.h"
#include "sim/config/deployment_reader.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"
#include "sim/core/registry.h"
#include "sim/io/output_dir.h"
#include "sim/serving/run_config_reader.h"
#include "sim/serving/serving_run.h"

namespace servesim {
namespace {

const std::string kData = SERVESIM_SHARED_DATA_DIR;

std::string workload_for(const std::string& scenario) {
  if (scenario == "azure-conv") {
    return R"({"trace": {"format": "azure", "path": ")" + kData +
           R"(/traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv"}})";
  }
  if (scenario == "mooncake-conv") {
    return R"({"trace": {"format": "mooncake", "path": ")" + kData + R"(/traces/mooncake/conversation_trace.jsonl"}})";
  }
  // 1M requests with the Azure-conversation fitted lengths at 20 requests/s.
  return R"({"generator": {"impl": "gamma", "rate": 20, "cv": 1.0942, "num_requests": 1000000, "seed": 42,
             "input_dist": "lognormal", "input_mu": 6.6333, "input_sigma": 0.98515, "input_min": 2, "input_max": 14050,
             "output_dist": "lognormal", "output_mu": 5.0190, "output_sigma": 0.85901, "output_min": 7,
             "output_max": 1000}})";
}

int run_scenario(const std::string& scenario) {
  const std::string text = R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 1},
      "workload": )" + workload_for(scenario) + R"(, "slo": {"ttft": "500 ms", "tpot": "50 ms"}})";
  auto json = parse_json_text(text, "<" + scenario + ">");
  ConfigNode root(json, "<" + scenario + ">");
  const auto wall_start = std::chrono::steady_clock::now();
  Deployment deployment = read_deployment(root);
  RunConfig config = read_run_config(root);
  root.finish();
  auto scheduler = make_scheduler(config.scheduler);
  KvBudget budget =
      kv_budget(deployment, memory_budget_params(config.cache, scheduler->max_batched_tokens()));
  auto cache = make_kv_cache(config.cache, budget.capacity_tokens);
  auto source = open_workload(config.workload);
  auto model = make_execution_model(deployment);
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = budget.kv_bytes_per_token_replica;
  inputs.host_link = deployment.node.host_link;
  inputs.host_memory_bytes = deployment.node.cpu.memory.capacity_bytes;
  inputs.idle_w_per_gpu = deployment.node.gpu.idle_w;
  inputs.max_context_tokens = deployment.model.max_context;
  inputs.oversize_is_error = false;
  inputs.slo = config.slo;
  // requests.csv streams to disk as in `servesim run`, so RSS is what a user sees.
  const std::string out_dir = (std::filesystem::temp_directory_path() / ("servesim_speed_" + scenario)).string();
  std::filesystem::remove_all(out_dir);
  OutputDir out(out_dir);
  OutputFile& requests_csv = out.open("requests.csv");
  inputs.requests_csv_sink = [&requests_csv](std::string_view rows) { requests_csv.append(rows); };
  ServingResult result = run_serving(inputs, *model, *scheduler, *cache, *source);
  out.commit();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("%-14s %9lld %8lld %10.1f %9.3f %12.0f %12.0f %10lld %9.1f\n", scenario.c_str(),
              static_cast<long long>(result.arrived), static_cast<long long>(result.rejected), result.simulated_s,
              wall_s, static_cast<double>(result.arrived) / wall_s, result.simulated_s / wall_s,
              static_cast<long long>(result.iterations), static_cast<double>(usage.ru_maxrss) / 1024.0);
  std::filesystem::remove_all(out_dir);
  return 0;
}

}  // namespace
}  // namespace servesim

int main(int argc, char** argv) {
  if (argc == 2) {
    try {
      return servesim::run_scenario(argv[1]);
    } catch (const std::exception& error) {
      std::fprintf(stderr, "%s: %s\n", argv[1], error.what());
      return 1;
    }
  }
  std::printf("serving speed benchmark: 1 x h100-sxm, llama-3.1-8b, vllm scheduler, paged KV + prefix caching\n");
  std::printf("%-14s %9s %8s %10s %9s %12s %12s %10s %9s\n", "workload", "requests", "rejected", "sim_s", "wall_s",
              "req/wall_s", "sim/real", "iterations", "rss_MiB");
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  for (const char* scenario : {"azure-conv", "mooncake-conv", "generated-1M"}) {
    const std::string name = scenario;
    if (name == "azure-conv" &&
        !std::filesystem::exists(servesim::kData + "/traces/azure-llm-2023/AzureLLMInferenceTrace_conv.csv")) {
      std::printf("%-14s skipped: %s/traces/azure-llm-2023 not found\n", scenario, servesim::kData.c_str());
      continue;
    }
    if (name == "mooncake-conv" &&
        !std::filesystem::exists(servesim::kData + "/traces/mooncake/conversation_trace.jsonl")) {
      std::printf("%-14s skipped: %s/traces/mooncake not found\n", scenario, servesim::kData.c_str());
      continue;
    }
    std::fflush(stdout);
    const int status = std::system(("'" + self + "' " + scenario).c_str());
    if (status != 0) std::printf("%-14s failed (status %d)\n", scenario, status);
  }
  return 0;
}

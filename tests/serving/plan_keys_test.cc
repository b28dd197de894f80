// No plan key is accepted and ignored: for each documented key of "plan" (and
// the scheduler's micro_batches, which only pipeline plans use), changing its
// value changes what `servesim run` reports, or the value is refused with one
// line naming the key and why (exit 2).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"

namespace servesim {
namespace {

using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::without_wall_time;
using testing::write_file;

nlohmann::json base_config(const std::string& model) {
  nlohmann::json config = nlohmann::json::parse(R"({"hardware": "h100-sxm", "engine": "vllm",
    "scheduler": {"impl": "vllm", "max_num_batched_tokens": 8192, "max_num_seqs": 256},
    "cache": {"impl": "paged", "block_tokens": 16, "prefix_caching": true, "preemption": "recompute"},
    "workload": {"generator": {"impl": "poisson", "rate": 8, "num_requests": 60, "seed": 3,
                               "input_dist": "uniform", "input_min": 100, "input_max": 900,
                               "output_dist": "uniform", "output_min": 20, "output_max": 200}}})");
  config["model"] = model;
  return config;
}

struct Outcome {
  int exit_code = -1;
  std::string summary;  // without wall_s
  std::string err;      // with the "servesim: error: FILE: " prefix removed
};

Outcome run(const nlohmann::json& config) {
  const std::string dir = make_temp_dir();
  const std::string path = dir + "/config.json";
  write_file(path, config.dump());
  const auto result = run_servesim("run " + path + " --out " + dir + "/out");
  std::string err = result.err;
  const std::string prefix = "servesim: error: " + path + ": ";
  if (err.rfind(prefix, 0) == 0) err = err.substr(prefix.size());
  return Outcome{result.exit_code, without_wall_time(read_file(dir + "/out/summary.json")), err};
}

// Runs `config` with `pointer` set to `a` and to `b`: both succeed and the summaries differ.
void expect_key_changes_result(nlohmann::json config, const std::string& pointer, const nlohmann::json& a,
                               const nlohmann::json& b) {
  config[nlohmann::json::json_pointer(pointer)] = a;
  const Outcome first = run(config);
  config[nlohmann::json::json_pointer(pointer)] = b;
  const Outcome second = run(config);
  ASSERT_EQ(first.exit_code, 0) << pointer << " = " << a << ": " << first.err;
  ASSERT_EQ(second.exit_code, 0) << pointer << " = " << b << ": " << second.err;
  EXPECT_NE(first.summary, second.summary) << pointer << ": " << a << " and " << b << " gave the same results";
}

// Runs `config` with `pointer` set to `value`: exit 2 and one stderr line starting with `prefix`.
void expect_key_refused(nlohmann::json config, const std::string& pointer, const nlohmann::json& value,
                        const std::string& prefix) {
  config[nlohmann::json::json_pointer(pointer)] = value;
  const Outcome outcome = run(config);
  EXPECT_EQ(outcome.exit_code, 2) << pointer << " = " << value << ": " << outcome.err;
  EXPECT_EQ(outcome.err.find(prefix), 0u) << outcome.err;
  EXPECT_EQ(outcome.err.find('\n'), outcome.err.size() - 1) << "more than one line: " << outcome.err;
}

TEST(PlanKeys, TensorParallelDegreeChangesTheResult) {
  expect_key_changes_result(base_config("llama-3.1-70b"), "/plan", {{"tp", 4}}, {{"tp", 8}});
}

TEST(PlanKeys, PipelineStagesChangeTheResult) {
  expect_key_changes_result(base_config("llama-3.1-70b"), "/plan", {{"tp", 4}, {"pp", 1}}, {{"tp", 4}, {"pp", 2}});
}

TEST(PlanKeys, DataParallelReplicasChangeTheResult) {
  expect_key_changes_result(base_config("llama-3.1-70b"), "/plan", {{"tp", 4}, {"dp", 1}}, {{"tp", 4}, {"dp", 2}});
}

TEST(PlanKeys, MicroBatchesChangeAPipelinePlansResult) {
  nlohmann::json config = base_config("llama-3.1-70b");
  config["plan"] = {{"tp", 4}, {"pp", 2}};
  expect_key_changes_result(config, "/scheduler/micro_batches", 1, 2);
}

TEST(PlanKeys, MicroBatchesWithoutPipelineStagesAreRefused) {
  nlohmann::json config = base_config("llama-3.1-70b");
  config["plan"] = {{"tp", 4}};
  expect_key_refused(config, "/scheduler/micro_batches", 2,
                     "/scheduler/micro_batches: micro_batches 2 needs a plan with pp > 1");
}

TEST(PlanKeys, ExpertParallelDegreeChangesAMixtureOfExpertsResult) {
  expect_key_changes_result(base_config("mixtral-8x7b"), "/plan", {{"tp", 2}, {"ep", 1}}, {{"tp", 2}, {"ep", 2}});
}

TEST(PlanKeys, ExpertParallelismOnADenseModelIsRefused) {
  expect_key_refused(base_config("llama-3.1-8b"), "/plan", {{"tp", 1}, {"ep", 2}}, "/plan/ep: ep 2 ");
}

TEST(PlanKeys, ExpertRoutingChangesAMixtureOfExpertsResult) {
  expect_key_changes_result(base_config("mixtral-8x7b"), "/plan", {{"tp", 1}, {"ep", 8}},
                            {{"tp", 1}, {"ep", 8}, {"expert_routing", {{"zipf", 1.0}}}});
}

TEST(PlanKeys, ExpertRoutingOnADenseModelIsRefused) {
  expect_key_refused(base_config("llama-3.1-8b"), "/plan", {{"tp", 1}, {"expert_routing", "balanced"}},
                     "/plan/expert_routing: expert_routing needs a mixture-of-experts model (llama-3.1-8b is dense)");
}

// Each part of "precision" changes the run: FP8 weights stream half the bytes (weight-only: bf16 GEMMs),
// FP8 activations switch the layer GEMMs to the FP8 curve, an FP8 KV cache halves decode attention's bytes.
TEST(PlanKeys, EachPrecisionPartChangesTheResult) {
  nlohmann::json config = base_config("llama-3.1-8b");
  config["plan"] = {{"tp", 1}};
  expect_key_changes_result(config, "/precision", {{"weights", "bf16"}}, {{"weights", "fp8"}});
  expect_key_changes_result(config, "/precision", {{"weights", "fp8"}, {"activations", "bf16"}},
                            {{"weights", "fp8"}, {"activations", "fp8"}});
  expect_key_changes_result(config, "/precision", {{"kv_cache", "bf16"}}, {{"kv_cache", "fp8"}});
}

TEST(PlanKeys, MorePipelineStagesThanLayersAreRefused) {
  expect_key_refused(base_config("llama-3.1-8b"), "/plan", {{"tp", 1}, {"pp", 33}},
                     "/plan/pp: pp 33 exceeds the model's 32 layers");
}

// vLLM's KV budget knobs: a block count instead of the computed one, and a length limit the cache
// must hold once.
TEST(PlanKeys, NumGpuBlocksOverrideChangesTheKvCache) {
  nlohmann::json config = base_config("llama-3.1-8b");
  config["plan"] = {{"tp", 1}};
  expect_key_changes_result(config, "/cache/num_gpu_blocks_override", 0, 300);
}

TEST(PlanKeys, MaxModelLenTheKvCacheCannotHoldIsRefused) {
  nlohmann::json config = base_config("llama-3.1-8b");
  config["plan"] = {{"tp", 1}};
  config["cache"]["num_gpu_blocks_override"] = 100;
  expect_key_refused(config, "/cache/max_model_len", 2000,
                     "/cache/max_model_len: max_model_len 2000 is larger than the 1600 tokens the KV cache can hold");
}

// Off a cluster too, a node's gpus_per_host_switch sets how many host links a replica's swaps use:
// TP 2 on PCIe GPUs with one switch per GPU moves KV over two links, with two GPUs per switch over one.
TEST(HardwareKeys, GpusPerHostSwitchChangesASwappingReplicasResultOffACluster) {
  nlohmann::json config = base_config("llama-3.1-8b");
  config["hardware"] = nlohmann::json::parse(read_file(std::string(SERVESIM_TEST_DATA_DIR) + "/../../hardware/catalog/h100-pcie.json"));
  config["plan"] = {{"tp", 2}};
  config["cache"]["preemption"] = "swap";
  config["cache"]["num_gpu_blocks_override"] = 120;
  config["workload"]["generator"]["rate"] = 40;
  expect_key_changes_result(config, "/hardware/gpus_per_host_switch", 1, 2);
}

TEST(PlanKeys, UnknownPlanKeysAreRefused) {
  expect_key_refused(base_config("llama-3.1-8b"), "/plan", {{"tp", 1}, {"sp", 2}}, "/plan/sp: ");
}

}  // namespace
}  // namespace servesim

// `servesim step` end to end: the JSON it prints, and every kind of bad input
// giving exit status 2 and exactly one line naming the place and what is allowed.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "models/execution/deployment.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"

namespace servesim {
namespace {

struct Result {
  int status = -1;
  std::string out;
  std::string err;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs `servesim step` on `json` written to a file named after the test.
Result run_step(const std::string& json, std::string* path_out = nullptr) {
  const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const std::string dir = std::filesystem::temp_directory_path().string();
  const std::string path = dir + "/servesim_step_" + name + ".json";
  std::ofstream(path) << json;
  const std::string out = path + ".out", err = path + ".err";
  const std::string command = std::string(SERVESIM_BINARY) + " step " + path + " >" + out + " 2>" + err;
  const int raw = std::system(command.c_str());
  Result result;
  result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  result.out = read_all(out);
  result.err = read_all(err);
  if (path_out != nullptr) *path_out = path;
  return result;
}

void expect_error(const std::string& json, const std::string& message) {
  std::string path;
  const Result r = run_step(json, &path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "servesim: error: " + path + ": " + message + "\n");
  EXPECT_EQ(r.out, "");
}

const char* kGood = R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "reference-graph",
  "plan": {"tp": 1, "pp": 1}, "batch": [["prefill", 1, 2048], ["decode", 64, 1024]]})";

TEST(StepCommand, PrintsOneJsonObjectWithTheBreakdown) {
  const Result r = run_step(kGood);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"iteration_s", "compute_s", "communication_s", "host_s", "energy_j"}) {
    EXPECT_TRUE(j.at(key).is_number()) << key;
  }
  EXPECT_GT(j.at("iteration_s").get<double>(), 0.0);
  EXPECT_EQ(j.at("communication_s").get<double>(), 0.0);  // one GPU
  double sum = 0.0;
  for (const auto& op : j.at("ops")) {
    EXPECT_TRUE(op.contains("name") && op.contains("count") && op.contains("bound"));
    sum += op.at("seconds").get<double>();
  }
  EXPECT_NEAR(sum, j.at("compute_s").get<double>(), 1e-9);  // graph replay: no host ops
  EXPECT_EQ(j.at("provenance"), "interpolated");
}

TEST(StepCommand, UnknownHardwareListsTheAvailableNodes) {
  expect_error(R"({"hardware": "h999", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["decode", 1, 10]]})",
               "/hardware: unknown hardware 'h999'; available: a100-sxm-80gb, b200, gb200, gh200, h100-pcie, h100-sxm, "
               "h200-sxm");
}

TEST(StepCommand, UnknownModelListsTheAvailableModels) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-9", "engine": "vllm", "batch": [["decode", 1, 10]]})",
               "/model: unknown model 'llama-9'; available: codellama-34b, deepseek-v3, llama-2-70b, llama-2-7b, "
               "llama-3.1-405b, llama-3.1-70b, llama-3.1-8b, mixtral-8x7b, qwen2.5-72b");
}

TEST(StepCommand, UnknownEngineListsTheAvailableEngines) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "trt", "batch": [["decode", 1, 10]]})",
               "/engine: unknown engine 'trt'; available: reference-eager, reference-graph, vllm");
}

TEST(StepCommand, PlanThatDoesNotFitSaysByHowMuch) {
  // Llama-3.1-405B bf16 on 8 x H100 80GB: 94.5 GiB of weights per GPU against 90% of 79.2 GiB.
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-405b", "engine": "vllm", "plan": {"tp": 8},
                   "batch": [["decode", 1, 10]]})",
               "/plan: the plan does not fit in GPU memory: needs 94.5 GiB per GPU (weights 94.5 GiB + activations "
               "0.0 GiB), has 71.3 GiB (90% of 79.2 GiB): short by 23.2 GiB");
}

// Llama-3.1-405B over two H100 nodes (TP 8 x PP 2): the stage boundary is a
// send/recv across nodes (the fabric's inter-node fit: 19.1 us + bytes / 35.93 GB/s).
TEST(StepCommand, PipelineAcrossTwoNodesPaysTheInterNodeLink) {
  const Result r = run_step(R"({"hardware": "h100-sxm", "model": "llama-3.1-405b", "engine": "vllm",
                                "plan": {"tp": 8, "pp": 2}, "batch": [["decode", 1, 10]]})");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto out = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& op : out["ops"]) {
    if (op["name"] != "pipeline_send_recv") continue;
    found = true;
    EXPECT_NEAR(op["seconds"].get<double>(), 19.1e-6 + 16384.0 * 4.0 / 35.93e9, 1e-12);  // hidden + residual
  }
  EXPECT_TRUE(found) << r.out;
}

// An inline fabric without inter-node numbers cannot carry a plan that spans nodes.
TEST(StepCommand, PlanSpanningNodesNeedsInterNodeNumbers) {
  expect_error(R"({"hardware": {"gpus_per_node": 8, "cpu": "sapphire-rapids", "host_link": "pcie-gen5-x16",
                                  "fabric": {"bandwidth": "450 GB/s"},
                                  "gpu": {"name": "H100", "bf16": "989.4 TFLOP/s", "hbm": "80 GB",
                                          "hbm_bandwidth": "3.35 TB/s", "l2": "50 MiB", "sms": 132,
                                          "clock": "1980 MHz", "tdp": "700 W", "idle": "100 W"}},
                   "model": "llama-3.1-405b", "engine": "vllm", "plan": {"tp": 8, "pp": 2},
                   "batch": [["decode", 1, 10]]})",
               "/plan/pp: tp x pp = 16 GPUs spans 2 hardware nodes, but fabric \"fabric\" has no inter-node numbers "
               "(inter_node_send_recv_latency, inter_node_send_recv_bandwidth)");
}

// dp replicates whole replicas behind a router: it cannot change one iteration, so step refuses it.
TEST(StepCommand, DataParallelReplicasAreRefused) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 1, "dp": 2},
                   "batch": [["decode", 1, 10]]})",
               "/plan/dp: step predicts one replica's iteration; dp 2 (identical replicas behind a router) applies to "
               "run and sweep only");
}

// A token's latency crosses every stage; with pipeline stages the slowest one is reported as stage_s.
TEST(StepCommand, PipelinePlansReportTheTokenLatencyAndTheSlowestStage) {
  const Result one = run_step(R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "engine": "vllm",
                                  "plan": {"tp": 4, "pp": 1}, "batch": [["decode", 32, 1024]]})");
  const Result two = run_step(R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "engine": "vllm",
                                  "plan": {"tp": 4, "pp": 2}, "batch": [["decode", 32, 1024]]})");
  ASSERT_EQ(one.status, 0) << one.err;
  ASSERT_EQ(two.status, 0) << two.err;
  const auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(two.out);
  EXPECT_DOUBLE_EQ(a["stage_s"].get<double>(), a["iteration_s"].get<double>());
  // Two stages of 40 layers each plus one send: the token is not faster than on one stage.
  EXPECT_GE(b["iteration_s"].get<double>(), a["iteration_s"].get<double>());
  EXPECT_LT(b["iteration_s"].get<double>(), 1.05 * a["iteration_s"].get<double>());
  EXPECT_LT(b["stage_s"].get<double>(), 0.6 * a["iteration_s"].get<double>());
  EXPECT_GT(b["stage_s"].get<double>(), 0.45 * a["iteration_s"].get<double>());
}

// Mixtral-8x7B on 8 H100s, decode of 64 x 1024: TP 8 (experts sharded by TP, all-reduces) against EP 8
// with attention data parallel (tp 1: each GPU holds one expert per layer and the attention of 8
// sequences, tokens travel by all-to-all). Both are plausible: not below the time to stream each GPU's
// weights once at the HBM datasheet rate (at 64 tokens every expert is hit), within 2x of each other,
// and they differ.
TEST(StepCommand, MixtralExpertParallelEightDiffersFromTensorParallelAndStaysPlausible) {
  const char* kPlans[] = {R"({"tp": 8})", R"({"tp": 1, "ep": 8})", R"({"tp": 8, "ep": 8})"};
  std::vector<double> times;
  for (const char* plan : kPlans) {
    const Result r = run_step(std::string(R"({"hardware": "h100-sxm", "model": "mixtral-8x7b", "engine": "vllm", "plan": )") +
                              plan + R"(, "batch": [["decode", 64, 1024]]})");
    ASSERT_EQ(r.status, 0) << r.err;
    const auto out = nlohmann::json::parse(r.out);
    times.push_back(out["iteration_s"].get<double>());
    bool dispatch = false;
    for (const auto& op : out["ops"]) dispatch = dispatch || op["name"] == "moe_dispatch";
    EXPECT_EQ(dispatch, std::string(plan).find("ep") != std::string::npos) << plan;
    Deployment d;
    d.node = load_node("h100-sxm");
    d.model = load_model("mixtral-8x7b");
    d.engine = load_engine("vllm");
    d.plan.tp = std::string(plan).find("\"tp\": 8") != std::string::npos ? 8 : 1;
    d.plan.ep = std::string(plan).find("\"ep\": 8") != std::string::npos ? 8 : 1;
    const double floor_s = kv_budget(d, 0.9, 64).weights_bytes_per_gpu / d.node.gpu.hbm_bytes_per_s;
    EXPECT_GT(times.back(), floor_s) << plan;
  }
  EXPECT_GT(std::fabs(times[1] / times[0] - 1.0), 0.01);
  EXPECT_GT(std::fabs(times[2] / times[0] - 1.0), 0.01);
  for (double t : times) {
    EXPECT_LT(t, 2.0 * times[0]);
    EXPECT_GT(t, 0.5 * times[0]);
  }
}

TEST(StepCommand, ExpertParallelismOnADenseModelIsRefused) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"ep": 2},
                   "batch": [["decode", 1, 10]]})",
               "/plan/ep: ep 2 needs a mixture-of-experts model (llama-3.1-8b is dense)");
}

// DeepSeek-V3 at EP 8 on 8 H100s: 100.7 GB of weights per GPU (embedding and LM head bf16) (1/8 of the routed experts + a full copy of
// everything else) do not fit 90% of 80 GB; the one line says by how much (exact text: KvBudget tests).
TEST(StepCommand, DeepSeekV3AtEp8OnH100sDoesNotFitAndSaysByHowMuch) {
  std::string path;
  const Result r = run_step(R"({"hardware": "h100-sxm", "model": "deepseek-v3", "engine": "vllm",
                                "plan": {"tp": 1, "ep": 8}, "batch": [["decode", 64, 1024]]})", &path);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err.rfind("servesim: error: " + path + ": /plan: the plan does not fit in GPU memory: needs 93.8 GiB per "
                        "GPU (weights 93.8 GiB + activations 0.0 GiB), has 71.3 GiB (90% of 79.2 GiB): short by 22.5 GiB",
                        0),
            0u)
      << r.err;
  // The expert routing key changes the step where it applies (an MoE plan).
  const Result balanced = run_step(R"({"hardware": "h200-sxm", "model": "deepseek-v3", "engine": "vllm",
                                       "plan": {"tp": 1, "ep": 8}, "batch": [["decode", 64, 1024]]})");
  const Result skewed = run_step(R"({"hardware": "h200-sxm", "model": "deepseek-v3", "engine": "vllm",
                                     "plan": {"tp": 1, "ep": 8, "expert_routing": {"zipf": 0.5}},
                                     "batch": [["decode", 64, 1024]]})");
  ASSERT_EQ(balanced.status, 0) << balanced.err;
  ASSERT_EQ(skewed.status, 0) << skewed.err;
  EXPECT_GT(nlohmann::json::parse(skewed.out)["iteration_s"].get<double>(),
            nlohmann::json::parse(balanced.out)["iteration_s"].get<double>());
}

TEST(StepCommand, TensorParallelDegreeMustDivideTheHeads) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 3},
                   "batch": [["decode", 1, 10]]})",
               "/plan/tp: tp 3 does not divide the model's 32 attention heads");
}

TEST(StepCommand, ZeroBatchSizeIsRejected) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["decode", 0, 10]]})",
               "/batch/0/1: bad value 0: batch size must be positive");
}

TEST(StepCommand, NegativePromptLengthIsRejected) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["prefill", 1, -5]]})",
               "/batch/0/2: bad value -5: prompt length must be positive");
}

TEST(StepCommand, BatchEntryWithTwoFieldsIsMalformed) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["decode", 1]]})",
               "/batch/0: malformed batch entry [\"decode\",1]: expected [\"prefill\", B, S] or [\"decode\", B, C]");
}

TEST(StepCommand, UnknownSegmentKindListsTheAllowedOnes) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["verify", 1, 3]]})",
               "/batch/0/0: unknown segment kind 'verify'; allowed: prefill, decode");
}

TEST(StepCommand, EmptyBatchIsRejected) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": []})",
               "/batch: expected a non-empty array of [\"prefill\", B, S] or [\"decode\", B, C] entries");
}

TEST(StepCommand, UnknownTopLevelKeyListsTheAllowedKeys) {
  expect_error(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["decode", 1, 10]],
                   "extra": 1})",
               "/extra: unknown key 'extra'; allowed: batch, collectives, engine, gpu_memory_utilization, hardware, model, plan, precision");
}


// The vllm profile states the engine release it models ("version"), and step prints it as
// engine_version; a profile that states none (reference-graph) prints no such key. The per-sequence
// host work is an op counted in sequences.
TEST(StepCommand, ReportsTheEngineVersionItsProfileStates) {
  const Result vllm = run_step(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
    "batch": [["decode", 8, 1024]]})");
  ASSERT_EQ(vllm.status, 0) << vllm.err;
  const nlohmann::json j = nlohmann::json::parse(vllm.out);
  const nlohmann::json profile =
      nlohmann::json::parse(std::ifstream(servesim_home() + "/models/execution/engines/vllm.json"));
  EXPECT_EQ(j.at("engine_version"), profile.at("version"));
  bool found = false;
  for (const auto& op : j.at("ops")) {
    if (op.at("name") == "host_sequence_overhead") {
      found = true;
      EXPECT_EQ(op.at("count"), 8);
    }
  }
  EXPECT_TRUE(found);
  const Result reference = run_step(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "reference-graph",
    "batch": [["decode", 8, 1024]]})");
  ASSERT_EQ(reference.status, 0) << reference.err;
  EXPECT_FALSE(nlohmann::json::parse(reference.out).contains("engine_version"));
}

// "precision" is printed back, and every GEMM op names its compute dtype: FP8 layer GEMMs (each after
// an fp8_cast of its input), the LM head in bf16. Without the key: the checkpoint's bf16.
TEST(StepCommand, ShowsThePrecisionAndEachGemmsComputeDtype) {
  const Result fp8 = run_step(R"({"hardware": "h200-sxm", "model": "llama-3.1-8b", "engine": "reference-graph",
    "precision": {"weights": "fp8", "activations": "fp8", "kv_cache": "bf16"}, "batch": [["prefill", 1, 2048]]})");
  ASSERT_EQ(fp8.status, 0) << fp8.err;
  const nlohmann::json j = nlohmann::json::parse(fp8.out);
  EXPECT_EQ(j.at("precision"), nlohmann::json::parse(R"({"weights": "fp8", "activations": "fp8", "kv_cache": "bf16"})"));
  std::map<std::string, std::string> dtype;
  for (const auto& op : j.at("ops")) dtype[op.at("name").get<std::string>()] = op.value("dtype", "");
  EXPECT_EQ(dtype.at("qkv_proj"), "fp8");
  EXPECT_EQ(dtype.at("down_proj"), "fp8");
  EXPECT_EQ(dtype.at("lm_head"), "bf16");
  EXPECT_EQ(dtype.at("fp8_cast"), "");
  const Result bf16 = run_step(R"({"hardware": "h200-sxm", "model": "llama-3.1-8b", "engine": "reference-graph",
    "batch": [["prefill", 1, 2048]]})");
  ASSERT_EQ(bf16.status, 0) << bf16.err;
  const nlohmann::json k = nlohmann::json::parse(bf16.out);
  EXPECT_EQ(k.at("precision").at("activations"), "bf16");
  EXPECT_LT(j.at("iteration_s").get<double>(), k.at("iteration_s").get<double>());
}

// A compute dtype the GPU has no tensor cores for is refused in one line naming the key.
TEST(StepCommand, Fp8ActivationsOnA100AndFp4OnH200AreRefused) {
  expect_error(R"({"hardware": "a100-sxm-80gb", "model": "llama-3.1-8b", "engine": "vllm",
                   "precision": {"weights": "fp8", "activations": "fp8"}, "batch": [["decode", 1, 10]]})",
               "/precision/activations: fp8 activations need fp8 tensor cores, which A100-SXM4-80GB does not have "
               "(no \"fp8\" peak in its catalog entry); use 16-bit activations (\"fp8\" weights alone are "
               "weight-only quantisation)");
  expect_error(R"({"hardware": "h200-sxm", "model": "llama-3.1-8b", "engine": "vllm",
                   "precision": {"weights": "fp4", "activations": "fp4"}, "batch": [["decode", 1, 10]]})",
               "/precision/activations: fp4 activations need fp4 tensor cores, which H200-SXM-141GB does not have "
               "(no \"fp4\" peak in its catalog entry); use 16-bit activations (\"fp4\" weights alone are "
               "weight-only quantisation)");
  // Weight-only FP8 (W8A16) has no FP8 GEMM and runs anywhere.
  const Result w8a16 = run_step(R"({"hardware": "a100-sxm-80gb", "model": "llama-3.1-8b", "engine": "vllm",
                                   "precision": {"weights": "fp8"}, "batch": [["decode", 1, 10]]})");
  EXPECT_EQ(w8a16.status, 0) << w8a16.err;
}

TEST(StepCommand, MismatchedPrecisionsAreRefused) {
  expect_error(R"({"hardware": "h200-sxm", "model": "llama-3.1-8b", "engine": "vllm",
                   "precision": {"weights": "bf16", "activations": "fp8"}, "batch": [["decode", 1, 10]]})",
               "/precision/activations: fp8 activations need fp8 weights (a W8A8 / W4A4 GEMM), got weights bf16");
  expect_error(R"({"hardware": "h200-sxm", "model": "llama-3.1-8b", "engine": "vllm",
                   "precision": {"kv_cache": "fp4"}, "batch": [["decode", 1, 10]]})",
               "/precision/kv_cache: bad value \"fp4\"; allowed: bf16, fp16, fp8");
  expect_error(R"({"hardware": "h200-sxm", "model": "llama-3.1-8b", "engine": "vllm",
                   "precision": {"weight": "fp8"}, "batch": [["decode", 1, 10]]})",
               "/precision/weight: unknown key 'weight'; allowed: activations, kv_cache, weights");
}

}  // namespace
}  // namespace servesim

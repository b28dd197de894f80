// Claims about `servesim run` as a user sees it: byte-identical reruns, and bad input
// giving one exact line with file:line or JSON pointer, exit status 2 and no file in DIR.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace servesim {
namespace {

namespace fs = std::filesystem;

struct Result {
  int status = -1;
  std::string err;
};

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("servesim_run_cli_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Result run(const std::string& args, const fs::path& dir) {
  const fs::path err = dir / "stderr.txt";
  const std::string command = std::string(SERVESIM_BINARY) + " run " + args + " > " + (dir / "stdout.txt").string() +
                              " 2> " + err.string();
  Result result;
  result.status = WEXITSTATUS(std::system(command.c_str()));
  result.err = read(err);
  return result;
}

std::string config(const std::string& workload, const std::string& extra = "") {
  return R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 1},
    "scheduler": {"impl": "vllm"}, "cache": {"preemption": "recompute"}, "workload": )" +
         workload + extra + "}";
}

fs::path write(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

bool empty_dir(const fs::path& dir) { return !fs::exists(dir) || fs::is_empty(dir); }

std::string without_wall(const std::string& summary) {
  std::string out;
  std::istringstream in(summary);
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"wall_s\"") == std::string::npos) out += line + "\n";
  }
  return out;
}

// The same config run twice: every output byte-identical except summary.json's wall_s line.
TEST(RunCommand, RerunsAreByteIdentical) {
  const fs::path dir = scratch("determinism");
  const fs::path cfg = write(dir / "c.json", config(R"({"generator": {"impl": "gamma", "rate": 20, "cv": 2,
      "num_requests": 400, "input_dist": "lognormal", "input_mu": 6.6, "input_sigma": 1, "input_max": 8000,
      "output_dist": "lognormal", "output_mu": 5, "output_sigma": 0.9, "output_max": 1000}})",
                                                   R"(, "slo": {"ttft": "500 ms", "tpot": "50 ms"})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "a").string() + " --timeline", dir).status, 0);
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "b").string() + " --timeline", dir).status, 0);
  for (const char* file : {"requests.csv", "config.resolved.json", "kv_utilization.csv", "timeline.json"}) {
    EXPECT_EQ(read(dir / "a" / file), read(dir / "b" / file)) << file;
  }
  EXPECT_EQ(without_wall(read(dir / "a" / "summary.json")), without_wall(read(dir / "b" / "summary.json")));
  EXPECT_NE(read(dir / "a" / "summary.json").find("\"wall_s\""), std::string::npos);
}

TEST(RunCommand, UnorderedTimestampsFailWithFileLineAndWriteNothing) {
  const fs::path dir = scratch("unordered");
  const fs::path trace = write(dir / "t.csv",
                               "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.0,10,5\n"
                               "2023-11-16 18:15:45.0,10,5\n");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "azure", "path": "t.csv"}})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + trace.string() +
                            ":3: timestamps out of order: -1 s after the start is earlier than the previous "
                            "request's 0 s\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

TEST(RunCommand, MissingColumnFailsBeforeSimulating) {
  const fs::path dir = scratch("columns");
  const fs::path trace = write(dir / "t.csv", "TIMESTAMP,ContextTokens\n2023-11-16 18:15:46.0,10\n");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "azure", "path": "t.csv"}})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + trace.string() +
                            ":1: missing column 'GeneratedTokens' (header has: TIMESTAMP, ContextTokens)\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

TEST(RunCommand, EmptyTraceFails) {
  const fs::path dir = scratch("empty");
  const fs::path trace = write(dir / "t.jsonl", "");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "mooncake", "path": "t.jsonl"}})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + trace.string() + ": trace has no requests\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

TEST(RunCommand, NegativeLengthFailsWithFileLine) {
  const fs::path dir = scratch("negative");
  const fs::path trace = write(dir / "t.jsonl",
                               "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2}\n"
                               "{\"timestamp\": 5, \"input_length\": -10, \"output_length\": 2}\n");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "mooncake", "path": "t.jsonl"}})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + trace.string() +
                            ":2: input_length: expected a non-negative integer token count, got -10\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

// llama-3.1-8b has a 131072-token context.
TEST(RunCommand, RequestLongerThanTheContextFailsWithFileLine) {
  const fs::path dir = scratch("context");
  const fs::path trace = write(dir / "t.csv",
                               "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n1,200000,10\n");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "vidur", "path": "t.csv"}})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + trace.string() +
                            ":3: request 200000 input + 10 output tokens exceed the model's context of 131072 "
                            "tokens\n");
  // The error comes mid-run, after requests.csv started streaming: no partial file, no directory.
  EXPECT_FALSE(fs::exists(dir / "out"));
}

TEST(RunCommand, SloWithWrongUnitsFailsWithJsonPointer) {
  const fs::path dir = scratch("slo");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "vidur", "path": "t.csv"}})",
                                                   R"(, "slo": {"ttft": "500 MB"})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err.rfind("servesim: error: " + cfg.string() + ": /slo/ttft: ", 0), 0u) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);
  EXPECT_TRUE(empty_dir(dir / "out"));
}

std::string dp_config(const std::string& router) {
  return R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 1, "dp": 2},
    "workload": {"trace": {"format": "vidur", "path": "t.csv"}})" +
         router + "}";
}

// An unknown router: one line naming the JSON pointer, the bad value and every registered router.
TEST(RunCommand, UnknownRouterListsTheAvailableOnes) {
  const fs::path dir = scratch("router_name");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n");
  const fs::path cfg = write(dir / "c.json", dp_config(R"(, "router": {"impl": "random"})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + cfg.string() +
                            ": /router/impl: bad value \"random\"; allowed: least-loaded, prefix-aware, round-robin\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

// plan.dp = 2 end to end: summary.json lists both replicas (their requests add up), requests.csv
// names each request's replica and config.resolved.json records the router.
TEST(RunCommand, DataParallelRunReportsEachReplica) {
  const fs::path dir = scratch("dp2");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n0,20,3\n1,30,4\n2,40,5\n");
  const fs::path cfg = write(dir / "c.json", dp_config(R"(, "router": {"impl": "least-loaded"})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "out").string(), dir).status, 0);
  const auto summary = nlohmann::json::parse(read(dir / "out" / "summary.json"));
  ASSERT_EQ(summary["replicas"].size(), 2u);
  EXPECT_EQ(summary["replicas"][0]["requests"].get<int>() + summary["replicas"][1]["requests"].get<int>(), 4);
  EXPECT_EQ(summary["requests"]["finished"].get<int>(), 4);
  const std::string csv = read(dir / "out" / "requests.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')).substr(csv.find('\n') - 8), ",replica");
  const auto resolved = nlohmann::json::parse(read(dir / "out" / "config.resolved.json"));
  EXPECT_EQ(resolved["router"]["impl"], "least-loaded");
}

// KV offload: a tier name that does not exist, and a tier whose hardware the node lacks, are each
// one line naming the JSON pointer; nothing is written.
std::string offload_config(const std::string& hardware, const std::string& offload) {
  return R"({"hardware": )" + hardware + R"(, "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 1},
    "cache": {"offload": )" + offload + R"(},
    "workload": {"trace": {"format": "vidur", "path": "t.csv"}}})";
}

TEST(RunCommand, UnknownOffloadTierListsTheTiers) {
  const fs::path dir = scratch("offload_tier_name");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n");
  const fs::path cfg =
      write(dir / "c.json", offload_config(R"("h100-sxm")", R"({"tier": "nvme", "capacity": "64 GiB"})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + cfg.string() +
                            ": /cache/offload/tier: bad value \"nvme\"; allowed: host, cxl, ssd\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

TEST(RunCommand, OffloadTierWithoutItsHardwareOnTheNodeFails) {
  const fs::path dir = scratch("offload_tier_hardware");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n");
  const fs::path cfg =
      write(dir / "c.json", offload_config(R"("h100-sxm")", R"({"tier": "cxl", "capacity": "64 GiB"})"));
  const Result result = run(cfg.string() + " --out " + (dir / "out").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + cfg.string() +
                            ": /cache/offload/tier: \"cxl\" needs CXL memory in the hardware (node \"h100-sxm\" "
                            "has none; add \"cxl\": {...} to the node)\n");
  EXPECT_TRUE(empty_dir(dir / "out"));
}

// An inline node with a CXL expander: the offload tier runs end to end and is reported; a
// capacity beyond the expander's is one line naming /cache/offload/capacity.
std::string node_with_cxl() {
  return R"({"gpus_per_node": 8, "cpu": "sapphire-rapids", "host_link": "pcie-gen5-x16",
    "fabric": "nvlink4-nvswitch",
    "gpu": {"name": "H100-SXM5-80GB", "bf16": "989.4 TFLOP/s", "hbm": "85017493504 B", "hbm_bandwidth": "3.35 TB/s",
            "l2": "50 MiB", "sms": 132, "clock": "1980 MHz", "tdp": "700 W", "idle": "151.9 W",
            "calibration": "h100-sxm"},
    "cxl": {"capacity": "512 GiB", "bandwidth": "64 GB/s", "latency": "250 ns"}})";
}

TEST(RunCommand, CxlOffloadTierOnAnInlineNodeRunsAndIsReported) {
  const fs::path dir = scratch("offload_cxl");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n1,20,3\n");
  const fs::path cfg = write(dir / "c.json", offload_config(node_with_cxl(), R"({"tier": "cxl", "capacity": "64 GiB"})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "out").string(), dir).status, 0);
  const auto summary = nlohmann::json::parse(read(dir / "out" / "summary.json"));
  EXPECT_EQ(summary["offload"]["tier"], "cxl");
  EXPECT_EQ(summary["offload"]["capacity_blocks"].get<int64_t>(), 32768);  // 64 GiB / (16 x 128 KiB)
  EXPECT_EQ(summary["requests"]["finished"].get<int>(), 2);
  const auto resolved = nlohmann::json::parse(read(dir / "out" / "config.resolved.json"));
  EXPECT_EQ(resolved["cache"]["offload"]["tier"], "cxl");

  const fs::path big = write(dir / "big.json", offload_config(node_with_cxl(), R"({"tier": "cxl", "capacity": "1 TiB"})"));
  const Result result = run(big.string() + " --out " + (dir / "out2").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + big.string() +
                            ": /cache/offload/capacity: 1099511627776 B exceeds the 549755813888 B of CXL memory\n");
}

// Prefill/decode disaggregation from the config: pools with their own TP, the
// KV handoff reported, GPUs of both pools counted; mistakes are one line naming
// the JSON pointer with nothing written.
std::string disaggregated_config(const std::string& disaggregation, const std::string& extra = "") {
  return R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
    "disaggregation": )" + disaggregation + R"(,
    "workload": {"trace": {"format": "vidur", "path": "t.csv"}})" + extra + "}";
}

TEST(RunCommand, DisaggregatedRunHandsEveryRequestToTheDecodePool) {
  const fs::path dir = scratch("disaggregated");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,2\n0,200,3\n1,300,4\n2,400,1\n");
  const fs::path cfg = write(dir / "c.json", disaggregated_config(R"({"prefill": {"tp": 2}, "decode": {"tp": 1, "dp": 2},
      "kv_link": {"bandwidth": "50 GB/s", "latency": "5 us"}})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "out").string(), dir).status, 0);
  const auto summary = nlohmann::json::parse(read(dir / "out" / "summary.json"));
  EXPECT_EQ(summary["requests"]["finished"].get<int>(), 4);
  EXPECT_EQ(summary["disaggregation"]["prefill_replicas"].get<int>(), 1);
  EXPECT_EQ(summary["disaggregation"]["decode_replicas"].get<int>(), 2);
  EXPECT_EQ(summary["disaggregation"]["kv_transfers"].get<int>(), 3);  // the 1-token request stays on prefill
  // 131072 B of KV per token (Llama-3.1-8B), 600 prompt tokens moved.
  EXPECT_DOUBLE_EQ(summary["disaggregation"]["kv_transfer_bytes"].get<double>(), 600.0 * 131072.0);
  ASSERT_EQ(summary["replicas"].size(), 3u);
  EXPECT_EQ(summary["replicas"][0]["role"], "prefill");
  EXPECT_EQ(summary["replicas"][0]["gpus"].get<int>(), 2);
  EXPECT_EQ(summary["replicas"][2]["role"], "decode");
  EXPECT_TRUE(summary["kv_budget"].contains("decode"));
  // 4 GPUs in all: per-GPU throughput is a quarter of the total.
  EXPECT_NEAR(summary["throughput"]["output_tokens_per_s_per_gpu"].get<double>(),
              summary["throughput"]["output_tokens_per_s"].get<double>() / 4.0, 1e-9);
}

// Each pool may run on a node of its own: the decode pool on A100s here. Its replicas report their
// hardware, and idle energy uses each node's idle power.
TEST(RunCommand, DisaggregatedPoolsMayUseDifferentHardware) {
  const fs::path dir = scratch("disaggregated_hardware");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,20\n5,200,30\n");
  const fs::path cfg = write(dir / "c.json", disaggregated_config(R"({"prefill": {"tp": 1, "hardware": "h200-sxm"},
      "decode": {"tp": 2, "hardware": "a100-sxm-80gb"}, "kv_link": {"bandwidth": "25 GB/s"}})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "out").string(), dir).status, 0);
  const auto summary = nlohmann::json::parse(read(dir / "out" / "summary.json"));
  EXPECT_EQ(summary["requests"]["finished"].get<int>(), 2);
  EXPECT_EQ(summary["replicas"][0]["hardware"], "h200-sxm");
  EXPECT_EQ(summary["replicas"][1]["hardware"], "a100-sxm-80gb");
  EXPECT_EQ(summary["replicas"][1]["gpus"].get<int>(), 2);
  // Idle: each replica's idle GPU-seconds at its own node's idle power (H200 and A100 from the catalog).
  double expected_idle = 0.0;
  const double duration = summary["simulated_s"].get<double>();
  for (const auto& [replica, idle_w] : {std::pair{0, 119.8}, std::pair{1, 60.0}}) {
    const auto& r = summary["replicas"][replica];
    expected_idle += idle_w * (duration - r["busy_s"].get<double>()) * r["gpus"].get<double>();
  }
  EXPECT_NEAR(summary["energy"]["idle_j"].get<double>(), expected_idle, expected_idle * 1e-3);

  const fs::path bad = write(dir / "bad.json", disaggregated_config(R"({"prefill": {"tp": 1, "hardware": "h300"},
      "decode": {"tp": 1}, "kv_link": {"bandwidth": "25 GB/s"}})"));
  const Result result = run(bad.string() + " --out " + (dir / "out2").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find(": /disaggregation/prefill/hardware: unknown hardware 'h300'"), std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(dir / "out2"));
}

// The decode replica of each prefilled request is the decode router's pick: with requests far
// apart both decode replicas are idle each time, so least-loaded (the default; ties to the
// lowest index) sends all four to replica 1, round-robin alternates.
TEST(RunCommand, DecodeRouterPicksTheDecodeReplica) {
  const fs::path dir = scratch("decode_router");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,100,4\n10,100,4\n20,100,4\n30,100,4\n");
  const std::string pools = R"({"prefill": {"tp": 1}, "decode": {"tp": 1, "dp": 2}, "kv_link": {"bandwidth": "50 GB/s"})";
  auto received = [&](const std::string& decode_router, const std::string& name) {
    const fs::path cfg = write(dir / (name + ".json"), disaggregated_config(pools + decode_router + "}"));
    EXPECT_EQ(run(cfg.string() + " --out " + (dir / name).string(), dir).status, 0);
    const auto summary = nlohmann::json::parse(read(dir / name / "summary.json"));
    return std::pair{summary["replicas"][1]["received"].get<int>(), summary["replicas"][2]["received"].get<int>()};
  };
  EXPECT_EQ(received("", "default"), (std::pair{4, 0}));
  EXPECT_EQ(received(R"(, "decode_router": {"impl": "round-robin"})", "round_robin"), (std::pair{2, 2}));
  const auto resolved = nlohmann::json::parse(read(dir / "round_robin" / "config.resolved.json"));
  EXPECT_EQ(resolved["disaggregation"]["decode_router"]["impl"], "round-robin");
  const fs::path bad = write(dir / "bad.json", disaggregated_config(pools + R"(, "decode_router": {"impl": "nearest"}})"));
  const Result result = run(bad.string() + " --out " + (dir / "bad").string(), dir);
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.err, "servesim: error: " + bad.string() +
                            ": /disaggregation/decode_router/impl: bad value \"nearest\"; allowed: least-loaded, "
                            "prefix-aware, round-robin\n");
}

TEST(RunCommand, DisaggregationMistakesNameTheirPointer) {
  const fs::path dir = scratch("disaggregated_bad");
  write(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n");
  const std::string pools = R"({"prefill": {"tp": 1}, "decode": {"tp": 1}, "kv_link": {"bandwidth": "50 GB/s"}})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {disaggregated_config(pools, R"(, "plan": {"tp": 1})"),
       ": /disaggregation: give either \"plan\" or \"disaggregation\" (which holds one plan per pool: \"prefill\" "
       "and \"decode\")\n"},
      {disaggregated_config(R"({"prefill": {"tp": 3}, "decode": {"tp": 1}, "kv_link": {"bandwidth": "1 GB/s"}})"),
       ": /disaggregation/prefill/tp: tp 3 does not divide the model's 32 attention heads\n"},
      {disaggregated_config(R"({"prefill": {"tp": 1}, "decode": {"tp": 1}})"),
       ": /disaggregation: missing required key 'kv_link'\n"},
      {disaggregated_config(R"({"prefill": {"tp": 1}, "decode": {"tp": 1}, "kv_link": {"bandwidth": "50 GB"}})"),
       ": /disaggregation/kv_link/bandwidth: bad value \"50 GB\": unit 'GB' has the wrong dimension; expected a "
       "bandwidth, e.g. \"64 GB/s\"\n"},
      {disaggregated_config(pools, R"(, "cache": {"offload": {"tier": "host", "capacity": "1 GiB"}})"),
       ": /cache/offload: a KV offload tier with \"disaggregation\" is not modelled\n"},
  };
  int i = 0;
  for (const auto& [text, message] : cases) {
    const std::string n = std::to_string(i++);
    const fs::path cfg = write(dir / (n + ".json"), text);
    const fs::path out = dir / (n + ".out");
    const Result result = run(cfg.string() + " --out " + out.string(), dir);
    EXPECT_EQ(result.status, 2) << text;
    EXPECT_EQ(result.err, "servesim: error: " + cfg.string() + message);
    EXPECT_FALSE(fs::exists(out));
  }
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// One request of 1,000 prompt tokens and one output token: one prefill iteration. The timeline's counter tracks
// at its start say 1 running, 0 waiting, ceil(1000 / 16) = 63 KV blocks in use, and the GPU's mean power over
// the iteration: the iteration's energy over its time (= summary iterations_j / TTFT for this one iteration).
TEST(RunCommand, TimelineCountersTrackKvRunningWaitingAndPower) {
  const fs::path dir = scratch("counters");
  write(dir / "one.jsonl", R"({"arrival_s": 0, "input_tokens": 1000, "output_tokens": 1})" "\n");
  const fs::path cfg = write(dir / "c.json", config(R"({"trace": {"format": "jsonl", "path": "one.jsonl"}})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "out").string() + " --timeline", dir).status, 0);
  const auto timeline = nlohmann::json::parse(read(dir / "out" / "timeline.json"));
  const auto summary = nlohmann::json::parse(read(dir / "out" / "summary.json"));
  std::map<std::string, double> first;
  for (const auto& event : timeline["traceEvents"]) {
    if (event.value("ph", "") != "C") continue;
    const std::string name = event["name"].get<std::string>();
    if (!first.count(name)) first[name] = event["args"]["value"].get<double>();
  }
  EXPECT_EQ(first["running"], 1.0);
  EXPECT_EQ(first["waiting"], 0.0);
  EXPECT_EQ(first["kv_blocks_used"], 63.0);
  const double power = summary["energy"]["iterations_j"].get<double>() / summary["ttft_s"]["mean"].get<double>();
  EXPECT_NEAR(first["power_w"], power, 1e-4 * power);
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// --timeline-gz writes timeline.json.gz instead of timeline.json: gzip whose content is byte for byte the
// plain timeline of the same run, and the same bytes on a rerun (no time or name in the gzip header).
TEST(RunCommand, GzippedTimelineIsThePlainTimelineCompressed) {
  const fs::path dir = scratch("timeline_gz");
  const fs::path cfg = write(dir / "c.json", config(R"({"generator": {"impl": "poisson", "rate": 4, "num_requests": 200}})"));
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "plain").string() + " --timeline", dir).status, 0);
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "gz").string() + " --timeline-gz", dir).status, 0);
  ASSERT_EQ(run(cfg.string() + " --out " + (dir / "gz2").string() + " --timeline-gz", dir).status, 0);
  EXPECT_FALSE(fs::exists(dir / "gz" / "timeline.json"));
  const std::string gz = read(dir / "gz" / "timeline.json.gz");
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(gz[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(gz[1]), 0x8b);
  EXPECT_EQ(gz, read(dir / "gz2" / "timeline.json.gz"));
  const std::string plain = read(dir / "plain" / "timeline.json");
  EXPECT_LT(gz.size(), plain.size() / 4);
  const fs::path unpacked = dir / "unpacked.json";
  ASSERT_EQ(std::system(("gzip -dc " + (dir / "gz" / "timeline.json.gz").string() + " > " + unpacked.string()).c_str()), 0);
  EXPECT_EQ(read(unpacked), plain);
}

}  // namespace
}  // namespace servesim

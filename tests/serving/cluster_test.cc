// Claims about serving on a cluster ("cluster": nodes joined by a network) as `servesim run` sees
// it. System: Llama-3.1-8B on h100-sxm nodes (NVLink 4: 450 GB/s, 7.59 us), ConnectX-7 NICs
// (50 GB/s, 1 us) on Quantum-2 switches (0.3 us a hop).
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"

namespace servesim {
namespace {

using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::write_file;

constexpr double kNicBytesPerS = 400e9 / 8, kNicLatencyS = 1e-6, kSwitchLatencyS = 0.3e-6;
constexpr double kNvlinkBytesPerS = 450e9, kNvlinkLatencyS = 7.59e-6;

std::string config(const std::string& cluster, const std::string& pools, const std::string& dir) {
  write_file(dir + "/one.jsonl", R"({"arrival_s": 0, "input_tokens": 1000, "output_tokens": 4})" "\n");
  return R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "cluster": )" + cluster +
         R"(, "disaggregation": )" + pools +
         R"(, "workload": {"trace": {"format": "jsonl", "path": "one.jsonl"}}})";
}

struct RunResult {
  int exit_code = -1;
  std::string err;
  nlohmann::json summary;
};

RunResult run(const std::string& text) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/config.json", text);
  const auto result = run_servesim("run " + dir + "/config.json --out " + dir + "/out");
  RunResult r{result.exit_code, result.err, {}};
  if (result.exit_code == 0) r.summary = nlohmann::json::parse(read_file(dir + "/out/summary.json"));
  return r;
}

RunResult run_one_request(const std::string& cluster, const std::string& pools) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/config.json", config(cluster, pools, dir));
  const auto result = run_servesim("run " + dir + "/config.json --out " + dir + "/out");
  RunResult r{result.exit_code, result.err, {}};
  if (result.exit_code == 0) r.summary = nlohmann::json::parse(read_file(dir + "/out/summary.json"));
  return r;
}

const char* kTwoNodes =
    R"({"nodes": 2, "network": {"topology": "single-switch", "nic": "connectx-7", "switch": "quantum-2"},
        "placement": [[0, 1], [8, 9]]})";
const char* kTp2Pools = R"({"prefill": {"tp": 2}, "decode": {"tp": 2}})";

// A TP-2 prefill replica on node 0 hands one request's KV to a TP-2 decode replica on node 1:
// each GPU sends half over its own NIC (rails), so the handoff takes NIC latency + one switch hop
// + (bytes / 2) / NIC bandwidth.
TEST(Cluster, KvHandoffAcrossNodesSendsEachGpusShareOverItsOwnNic) {
  const RunResult r = run_one_request(kTwoNodes, kTp2Pools);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto& d = r.summary["disaggregation"];
  const double bytes = d["kv_transfer_bytes"].get<double>();
  ASSERT_GT(bytes, 0.0);
  EXPECT_NEAR(d["kv_transfer_s_mean"].get<double>(), kNicLatencyS + kSwitchLatencyS + bytes / 2 / kNicBytesPerS,
              1e-9);
  EXPECT_EQ(r.summary["cluster"]["placement"], nlohmann::json::parse("[[0, 1], [8, 9]]"));
}

// The same pools placed on one node hand off over NVLink: fabric latency + (bytes / 2) / 450 GB/s.
TEST(Cluster, KvHandoffInsideANodeCrossesTheFabricPorts) {
  const RunResult r = run_one_request(R"({"nodes": 1, "placement": [[0, 1], [2, 3]]})", kTp2Pools);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto& d = r.summary["disaggregation"];
  const double bytes = d["kv_transfer_bytes"].get<double>();
  EXPECT_NEAR(d["kv_transfer_s_mean"].get<double>(), kNvlinkLatencyS + bytes / 2 / kNvlinkBytesPerS, 1e-9);
}

// Packed placement fills node 0 first: a TP-4 prefill and a TP-4 decode replica share it.
TEST(Cluster, PackedPlacementFillsNodesInOrderWithoutStraddling) {
  const RunResult r = run_one_request(R"({"nodes": 2, "network": {"nic": "connectx-7", "switch": "quantum-2"}})",
                                R"({"prefill": {"tp": 2, "dp": 3}, "decode": {"tp": 4}})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.summary["cluster"]["placement"], nlohmann::json::parse("[[0, 1], [2, 3], [4, 5], [8, 9, 10, 11]]"));
}

// A 64-GPU cluster (8 nodes, rail-optimized fat tree at 2:1, 16 TP-4 replicas, P/D across the two
// racks) run twice gives byte-identical outputs (summary.json's provenance names each run's own
// config path).
TEST(Cluster, SixtyFourGpuRunIsByteIdenticalWhenRepeated) {
  const std::string text =
      R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
          "cluster": {"nodes": 8, "network": {"topology": "rail-optimized", "nodes_per_leaf": 4,
                      "oversubscription": 2, "nic": "connectx-7", "switch": "quantum-2"}},
          "disaggregation": {"prefill": {"tp": 4, "dp": 8}, "decode": {"tp": 4, "dp": 8}},
          "router": {"impl": "least-loaded"},
          "workload": {"generator": {"impl": "poisson", "rate": 200, "num_requests": 3000, "seed": 7}}})";
  std::string outputs[2];
  for (std::string& output : outputs) {
    const std::string dir = make_temp_dir();
    write_file(dir + "/config.json", text);
    const auto result = run_servesim("run " + dir + "/config.json --out " + dir + "/out");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    output = testing::summary_results(read_file(dir + "/out/summary.json")) + read_file(dir + "/out/requests.csv");
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_NE(outputs[0].find("\"kv_transfers\": 3000"), std::string::npos);
}

void expect_bad(const std::string& text, const std::string& message) {
  const RunResult r = run(text);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
}

std::string with(const std::string& cluster, const std::string& rest) {
  return R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "cluster": )" + cluster + rest +
         R"(, "workload": {"generator": {"impl": "poisson", "rate": 1, "num_requests": 2}}})";
}

TEST(Cluster, KvLinkOnAClusterIsRefused) {
  expect_bad(with(kTwoNodes, R"(, "disaggregation": {"prefill": {"tp": 2}, "decode": {"tp": 2},
                                 "kv_link": {"bandwidth": "100 GB/s"}})"),
             R"(/disaggregation/kv_link: on a "cluster" the KV crosses the cluster's network: drop "kv_link")");
}

TEST(Cluster, ANicDrawingLessAtFullLoadThanIdleIsRefused) {
  expect_bad(with(R"({"nodes": 2, "network": {"nic": {"bandwidth": "50 GB/s", "idle_power": "20 W",
                  "active_power": "10 W"}, "switch": "quantum-2"}})", R"(, "plan": {"tp": 1})"),
             "/cluster/network/nic/active_power: is below idle_power");
}

TEST(Cluster, SwitchPowerWithoutPortsIsRefused) {
  expect_bad(with(R"({"nodes": 2, "network": {"nic": "connectx-7", "switch": {"latency": "1 us",
                  "idle_power": "500 W"}}})", R"(, "plan": {"tp": 1})"),
             "/cluster/network/switch/idle_power: switch power needs \"ports\"");
}

// Every preset in hardware/catalog/cluster runs a request on the node it names.
TEST(Cluster, EveryClusterPresetRunsOnItsNode) {
  for (const auto& [preset, node] : {std::pair{"dgx-h100-superpod-su", "h100-sxm"}, std::pair{"gh200-nvl32", "gh200"},
                                     std::pair{"gb200-nvl72", "gb200"}}) {
    const RunResult r = run(std::string(R"({"hardware": ")") + node +
                            R"(", "model": "llama-3.1-8b", "engine": "vllm", "cluster": ")" + preset +
                            R"(", "workload": {"generator": {"impl": "poisson", "rate": 1, "num_requests": 2}}})");
    EXPECT_EQ(r.exit_code, 0) << preset << ": " << r.err;
    if (r.exit_code == 0) EXPECT_GT(r.summary["cluster"]["nodes"].get<int>(), 1) << preset;
  }
}

TEST(Cluster, APresetOnOtherHardwareIsRefused) {
  expect_bad(with(R"("gh200-nvl32")", R"(, "plan": {"tp": 1})"),
             "/node: cluster 'gh200-nvl32' is made of gh200 nodes, but the config's hardware is h100-sxm");
}

// Without a "cluster" the run's platform energy is that of the nodes its replicas are packed on:
// the same deployment declared as a one-node cluster reports the same devices and joules (two
// TP-2 replicas swapping KV under pressure, so host DRAM is charged for bytes as well as idle).
TEST(Cluster, ARunWithoutAClusterReportsThePlatformEnergyOfTheOneNodeItFills) {
  const std::string dir = make_temp_dir();
  std::string trace;
  for (int i = 0; i < 40; ++i) {
    trace += R"({"arrival_s": )" + std::to_string(0.01 * i) + R"(, "input_tokens": 900, "output_tokens": 400})" "\n";
  }
  write_file(dir + "/many.jsonl", trace);
  const std::string body =
      R"("hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 2, "dp": 2},
         "cache": {"preemption": "swap", "num_gpu_blocks_override": 150},
         "workload": {"trace": {"format": "jsonl", "path": ")" + dir + R"(/many.jsonl"}})";
  const RunResult separate = run("{" + body + "}");
  const RunResult one_node = run(R"({"cluster": {"nodes": 1}, )" + body + "}");
  ASSERT_EQ(separate.exit_code, 0) << separate.err;
  ASSERT_EQ(one_node.exit_code, 0) << one_node.err;
  ASSERT_GT(separate.summary["swap"]["out_bytes"].get<double>(), 0.0);
  const auto& a = separate.summary["energy"]["platform"]["devices"];
  const auto& b = one_node.summary["energy"]["platform"]["devices"];
  for (const char* device : {"cpu", "dram"}) {
    EXPECT_EQ(a[device]["count"], b[device]["count"]) << device;
    EXPECT_NEAR(a[device]["total_j"].get<double>(), b[device]["total_j"].get<double>(),
                1e-6 * b[device]["total_j"].get<double>()) << device;
  }
  EXPECT_GT(a["dram"]["active_j"].get<double>(), 0.0);
}

TEST(Cluster, NetworkOfAOneNodeClusterIsRefused) {
  expect_bad(with(R"({"nodes": 1, "network": {"nic": "connectx-7"}})", R"(, "plan": {"tp": 1})"),
             "/cluster/network: a one-node cluster has no network");
}

TEST(Cluster, SeveralNodesWithoutANetworkAreRefused) {
  expect_bad(with(R"({"nodes": 2})", R"(, "plan": {"tp": 1})"), "/cluster/network: a cluster of several nodes");
}

TEST(Cluster, PlanLargerThanTheClusterIsRefused) {
  expect_bad(with(R"({"nodes": 1})", R"(, "plan": {"tp": 4, "dp": 3})"),
             "/cluster/nodes: the plan's 3 replicas (12 GPUs) do not fit on 1 nodes of 8 GPUs");
}

TEST(Cluster, AGpuPlacedTwiceIsRefused) {
  expect_bad(with(R"({"nodes": 1, "placement": [[0, 1], [1, 2]]})", R"(, "plan": {"tp": 2, "dp": 2})"),
             "/cluster/placement/1: GPU 1 is given to two replicas");
}

// The execution model prices a stage's collectives and the sends between stages from the packed
// layout: a TP-2 replica split over two nodes, or TP 2 x PP 2 with its stages on two nodes where packing
// keeps them in one, is refused rather than priced as packed. A placement of the packed shape on other
// GPUs is accepted.
TEST(Cluster, APlacementSpreadingAStageOverMoreNodesThanPackingIsRefused) {
  expect_bad(with(R"({"nodes": 2, "network": {"topology": "single-switch", "nic": "connectx-7", "switch": "quantum-2"},
                      "placement": [[0, 8]]})", R"(, "plan": {"tp": 2})"),
             "/cluster/placement/0: stage 0's 2 GPUs sit on 2 nodes; a stage is priced on 1 node (2 GPUs each, as "
             "packed): other spreads are not modelled");
  expect_bad(with(R"({"nodes": 2, "network": {"topology": "single-switch", "nic": "connectx-7", "switch": "quantum-2"},
                      "placement": [[0, 1, 8, 9]]})", R"(, "plan": {"tp": 2, "pp": 2})"),
             "/cluster/placement/0: stages 0 and 1 are on different nodes; their send is priced as packed, where "
             "they share a node");
  const RunResult ok = run(with(R"({"nodes": 2, "network": {"topology": "single-switch", "nic": "connectx-7",
                                   "switch": "quantum-2"}, "placement": [[10, 11]]})", R"(, "plan": {"tp": 2})"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

TEST(Cluster, PlacementOfTheWrongSizeIsRefused) {
  expect_bad(with(R"({"nodes": 1, "placement": [[0, 1, 2]]})", R"(, "plan": {"tp": 2})"),
             "/cluster/placement/0: lists 3 GPUs; replica 0 runs on 2");
}

TEST(Cluster, UnknownTopologyIsRefusedListingTheKnownOnes) {
  expect_bad(with(R"({"nodes": 2, "network": {"topology": "torus", "nic": "connectx-7", "switch": "quantum-2"}})",
                  R"(, "plan": {"tp": 1})"),
             "/cluster/network/topology");
}

TEST(Cluster, FlowCollectivesWithoutAClusterAreRefused) {
  const RunResult r = run(
      R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 2},
          "collectives": {"impl": "flow"}, "workload": {"generator": {"impl": "poisson", "rate": 1, "num_requests": 2}}})");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(R"(/collectives/impl: "flow" collectives run on a cluster's links: add "cluster")"),
            std::string::npos)
      << r.err;
}

// One request on a TP-2 x PP-2 replica with flow collectives: the stage boundary's activations cross the
// NVLink ports as a send/recv on the links. On idle links it takes what flow prices a send at, except that a
// step pays the larger of its step latency (1.71 us, fitted) and its route's wire latency (7.59 us, the
// fabric's): TTFT = `servesim step`'s iteration + (7.59 - 1.71) us.
TEST(Cluster, FlowPipelineSendsRunOnTheLinks) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/one.jsonl", R"({"arrival_s": 0, "input_tokens": 2048, "output_tokens": 1})" "\n");
  const RunResult r = run(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
      "plan": {"tp": 2, "pp": 2}, "cluster": {"nodes": 1}, "collectives": {"impl": "flow"},
      "workload": {"trace": {"format": "jsonl", "path": ")" + dir + R"(/one.jsonl"}}})");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_file(dir + "/step.json", R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
      "plan": {"tp": 2, "pp": 2}, "collectives": {"impl": "flow"}, "batch": [["prefill", 1, 2048]]})");
  const auto step = run_servesim("step " + dir + "/step.json");
  ASSERT_EQ(step.exit_code, 0) << step.err;
  const double expected = nlohmann::json::parse(step.out)["iteration_s"].get<double>() + (kNvlinkLatencyS - 1.71e-6);
  EXPECT_NEAR(r.summary["ttft_s"]["mean"].get<double>(), expected, 1e-9 + 1e-6 * expected);
}

// One request alone on a TP-4 replica with flow collectives: its one prefill iteration computes
// for what the execution model prices less the all-reduces, then runs the all-reduces on idle
// NVLink ports, which take what flow prices them at; so TTFT = the iteration `servesim step`
// predicts with the same collectives (to the engine's clock rounding).
TEST(Cluster, FlowCollectivesOnIdleLinksTakeWhatTheModelPrices) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/one.jsonl", R"({"arrival_s": 0, "input_tokens": 2048, "output_tokens": 1})" "\n");
  write_file(dir + "/config.json",
             R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 4},
                 "cluster": {"nodes": 1}, "collectives": {"impl": "flow"},
                 "workload": {"trace": {"format": "jsonl", "path": "one.jsonl"}}})");
  const auto result = run_servesim("run " + dir + "/config.json --out " + dir + "/out");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto summary = nlohmann::json::parse(read_file(dir + "/out/summary.json"));
  write_file(dir + "/step.json",
             R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 4},
                 "collectives": {"impl": "flow"}, "batch": [["prefill", 1, 2048]]})");
  const auto step = run_servesim("step " + dir + "/step.json");
  ASSERT_EQ(step.exit_code, 0) << step.err;
  const auto predicted = nlohmann::json::parse(step.out);
  const double iteration = predicted["iteration_s"].get<double>();
  EXPECT_GT(predicted["communication_s"].get<double>(), 0.0);
  EXPECT_NEAR(summary["ttft_s"]["mean"].get<double>(), iteration, 1e-6 * iteration);
}

// The same request with alpha-beta collectives on the cluster: the iteration is one number, as off
// a cluster (a cluster changes where bytes flow, not how alpha-beta times an iteration).
TEST(Cluster, AlphaBetaCollectivesOnAClusterTimeIterationsAsOffIt) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/one.jsonl", R"({"arrival_s": 0, "input_tokens": 2048, "output_tokens": 1})" "\n");
  double ttft[2];
  for (int on_cluster = 0; on_cluster < 2; ++on_cluster) {
    write_file(dir + "/config.json",
               std::string(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 4},)") +
                   (on_cluster ? R"("cluster": {"nodes": 1},)" : "") +
                   R"("workload": {"trace": {"format": "jsonl", "path": "one.jsonl"}}})");
    const auto result = run_servesim("run " + dir + "/config.json --out " + dir + "/out" + std::to_string(on_cluster));
    ASSERT_EQ(result.exit_code, 0) << result.err;
    ttft[on_cluster] = nlohmann::json::parse(read_file(dir + "/out" + std::to_string(on_cluster) + "/summary.json"))
                           ["ttft_s"]["mean"].get<double>();
  }
  EXPECT_EQ(ttft[0], ttft[1]);
}

// Alpha-beta's parameters price the execution model's collectives: a 1 ms all-reduce latency
// slows a TP-4 run (no key is accepted and ignored).
TEST(Cluster, AlphaBetaParametersChangeTheResult) {
  double ttft[2];
  for (int slow = 0; slow < 2; ++slow) {
    const RunResult r = run(std::string(R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
        "plan": {"tp": 4}, "collectives": {"impl": "alpha-beta")") +
                            (slow ? R"(, "allreduce_latency": "1 ms")" : "") +
                            R"(}, "workload": {"generator": {"impl": "poisson", "rate": 1, "num_requests": 3}}})");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ttft[slow] = r.summary["ttft_s"]["mean"].get<double>();
  }
  EXPECT_GT(ttft[1], ttft[0] + 0.05);  // 64 all-reduces of at least 1 ms each
}

// The platform's energy on a cluster: the GPUs' (GPU-only figures unchanged beside it) plus every other
// device's, their sum per output token; a KV handoff between nodes makes the NICs active.
TEST(Cluster, PlatformEnergyAddsEveryDeviceToTheGpus) {
  const RunResult r = run_one_request(kTwoNodes, kTp2Pools);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto& energy = r.summary["energy"];
  const auto& platform = energy["platform"];
  EXPECT_EQ(platform["devices"]["gpu"]["total_j"].get<double>(), energy["total_j"].get<double>());
  double sum = 0.0;
  for (const auto& [name, device] : platform["devices"].items()) sum += device["total_j"].get<double>();
  EXPECT_NEAR(platform["total_j"].get<double>(), sum, 1e-9 * sum);
  EXPECT_GT(platform["total_j"].get<double>(), energy["total_j"].get<double>());
  const double tokens = 4.0;
  EXPECT_NEAR(platform["j_per_output_token"].get<double>(), sum / tokens, 1e-9 * sum);
  EXPECT_GT(platform["devices"]["nic"]["active_j"].get<double>(), 0.0) << "the handoff crossed two NICs";
  EXPECT_EQ(platform["devices"]["nic"]["count"].get<int>(), 16);
  EXPECT_EQ(platform["devices"]["cpu"]["count"].get<int>(), 4) << "two sockets per h100-sxm node";
}

// One 2,048-token prefill on two nodes with flow collectives; returns its TTFT.
double ttft_on_two_nodes(const std::string& plan, const std::string& nic) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/one.jsonl", R"({"arrival_s": 0, "input_tokens": 2048, "output_tokens": 1})" "\n");
  const RunResult r = run(R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "engine": "vllm", "plan": )" +
                          plan + R"(, "cluster": {"nodes": 2, "network": {"topology": "single-switch",
                          "nic": ")" + nic + R"(", "switch": "quantum-2"}}, "collectives": {"impl": "flow"},
                          "workload": {"trace": {"format": "jsonl", "path": ")" + dir + R"(/one.jsonl"}}})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? r.summary["ttft_s"]["mean"].get<double>() : -1.0;
}

// The same on four nodes.
double ttft_on_four_nodes(const std::string& plan, const std::string& nic) {
  const std::string dir = make_temp_dir();
  write_file(dir + "/one.jsonl", R"({"arrival_s": 0, "input_tokens": 2048, "output_tokens": 1})" "\n");
  const RunResult r = run(R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "engine": "vllm", "plan": )" +
                          plan + R"(, "cluster": {"nodes": 4, "network": {"topology": "single-switch",
                          "nic": ")" + nic + R"(", "switch": "quantum-2"}}, "collectives": {"impl": "flow"},
                          "workload": {"trace": {"format": "jsonl", "path": ")" + dir + R"(/one.jsonl"}}})");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? r.summary["ttft_s"]["mean"].get<double>() : -1.0;
}

// TP 16 over two 8-GPU nodes: its all-reduces leave each node through the NICs, so halving the NICs'
// bandwidth (ConnectX-7 400G -> 200G) lengthens the prefill; TP 8 in one node never touches a NIC.
TEST(Cluster, TensorParallelismAcrossNodesRunsItsAllReducesThroughTheNics) {
  const double fast = ttft_on_two_nodes(R"({"tp": 16})", "connectx-7");
  const double slow = ttft_on_two_nodes(R"({"tp": 16})", "connectx-7-200g");
  EXPECT_GT(slow, fast * 1.02);
  EXPECT_EQ(ttft_on_two_nodes(R"({"tp": 8})", "connectx-7"), ttft_on_two_nodes(R"({"tp": 8})", "connectx-7-200g"));
}

// TP 8 x PP 2 over two nodes with flow: the stage boundary's send crosses the NICs, so with 200G NICs it
// lands later (by the activations' bytes over the lost bandwidth: 2,048 x 8,192 x 4 B at 25 GB/s less at 50,
// at a send's efficiency, flow's large-ring 0.8313).
TEST(Cluster, PipelineStagesOnTwoNodesSendThroughTheNics) {
  const double fast = ttft_on_two_nodes(R"({"tp": 8, "pp": 2})", "connectx-7");
  const double slow = ttft_on_two_nodes(R"({"tp": 8, "pp": 2})", "connectx-7-200g");
  const double bytes = 2048.0 * 8192 * 4;
  EXPECT_NEAR(slow - fast, bytes / (25e9 * 0.8313) - bytes / (50e9 * 0.8313), 1e-3 * (slow - fast));
}

// TP 16 x PP 2 over four nodes with flow: each stage's all-reduces run on its own GPUs' links, as
// rail-aligned rings through the NICs (NIC-bound: 2(n - 1) steps of S / (g n) bytes at the NIC's rate x
// flow's efficiency at n ranks, e(16) = 0.8313 x 16 / (16 + 0.738)), and the stage boundary's send crosses
// them too (at the large-ring 0.8313). So 200G instead of 400G NICs adds, for the 2 x 80 all-reduces of
// S = 2,048 x 8,192 x 2 B (n = 16, g = 8) and the 2,048 x 8,192 x 4 B send:
// (160 x 2 (n - 1) S / (g n) / e(16) + send bytes / 0.8313) x (1 / 25 GB/s - 1 / 50 GB/s).
TEST(Cluster, CollectivesInsidePipelineStagesRunOnTheirStagesLinks) {
  const double fast = ttft_on_four_nodes(R"({"tp": 16, "pp": 2})", "connectx-7");
  const double slow = ttft_on_four_nodes(R"({"tp": 16, "pp": 2})", "connectx-7-200g");
  const double s = 2048.0 * 8192 * 2, n = 16, g = 8;
  const double e_ring = 0.8313 * n / (n + 0.738), e_send = 0.8313;
  const double wire = 160 * 2 * (n - 1) * s / (g * n) / e_ring + 2048.0 * 8192 * 4 / e_send;
  EXPECT_NEAR(slow - fast, wire / 25e9 - wire / 50e9, 1e-6 * (slow - fast));
}

// A TP group larger than a node must fill whole nodes; one that does is a plan (no longer refused).
TEST(Cluster, TensorParallelismAcrossNodesIsAPlanAndPricesTheNics) {
  const std::string dir = make_temp_dir();
  double communication[2];
  for (int tp : {8, 16}) {
    write_file(dir + "/step.json", R"({"hardware": "h100-sxm", "model": "llama-3.1-70b", "engine": "vllm", "plan": {"tp": )" +
                                       std::to_string(tp) + R"(}, "batch": [["prefill", 1, 4096]]})");
    const auto step = run_servesim("step " + dir + "/step.json");
    ASSERT_EQ(step.exit_code, 0) << step.err;
    communication[tp / 16] = nlohmann::json::parse(step.out)["communication_s"].get<double>();
  }
  // The same all-reduced bytes per GPU; across nodes each GPU's NIC (35.9 GB/s inter-node) carries 1/8 of
  // the ring, the NVLink port 7/8: slower than NVLink alone.
  EXPECT_GT(communication[1], communication[0]);
}

}  // namespace
}  // namespace servesim

// Claims about the cluster platform builder and its topologies, with closed-form oracles.
// System: nodes of `gpus` GPUs (fabric 400 GB/s, 1 us), NICs of 50 GB/s (2 us + a 0.5 us switch hop).
#include "hardware/platform/cluster_platform.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/engine.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

constexpr double kNic = 50e9, kNicLatency = 2e-6, kSwitchLatency = 0.5e-6;
constexpr double kFabric = 400e9, kFabricLatency = 1e-6;

ClusterSpec cluster(int64_t nodes, int64_t gpus, const std::string& topology, int64_t nodes_per_leaf = 2,
                    double oversubscription = 1.0, int64_t nics_per_node = 0) {
  ClusterSpec c;
  c.node.gpus_per_node = gpus;
  c.node.fabric.bytes_per_s = kFabric;
  c.node.fabric.latency_s = kFabricLatency;
  c.node.host_link = {"pcie", 64e9, 60e9, 1e-6};
  c.nodes = nodes;
  c.network.topology = topology;
  const auto* entry = Registry<NetworkTopology>::instance().find(topology);
  c.network.topology_params = default_params(entry->info.params);
  if (topology != "single-switch") {
    c.network.topology_params.set("nodes_per_leaf", nodes_per_leaf);
    c.network.topology_params.set("oversubscription", oversubscription);
  }
  c.network.nic = {"nic", kNic, kNicLatency};
  c.network.nics_per_node = nics_per_node;
  c.network.switch_spec = {"switch", kSwitchLatency, 64};
  return c;
}

// Runs flows (src GPU, dst GPU, bytes) started together; returns their finish times.
std::vector<double> run_flows(const ClusterPlatform& platform, const std::vector<std::vector<int64_t>>& flows,
                              double bytes) {
  Engine engine(platform.spec());
  std::vector<double> done(flows.size(), -1.0);
  for (std::size_t i = 0; i < flows.size(); ++i) {
    engine.transfer(static_cast<EndpointId>(platform.gpu_endpoint(flows[i][0])),
                    static_cast<EndpointId>(platform.gpu_endpoint(flows[i][1])), bytes,
                    [&done, &engine, i] { done[i] = engine.now(); });
  }
  engine.run();
  return done;
}

// One flow between GPUs of one node crosses the source's fabric port and the destination's:
// fabric latency + bytes / fabric bandwidth.
TEST(ClusterPlatform, FlowInsideANodeTakesFabricLatencyPlusBytesOverFabricBandwidth) {
  const ClusterPlatform platform(cluster(1, 8, "single-switch"));
  const std::vector<double> done = run_flows(platform, {{0, 5}}, 4e9);
  EXPECT_NEAR(done[0], kFabricLatency + 4e9 / kFabric, 1e-12);
}

// Two flows into one GPU share its fabric down port: each takes twice as long.
TEST(ClusterPlatform, TwoFlowsIntoOneGpuShareItsFabricPort) {
  const ClusterPlatform platform(cluster(1, 8, "single-switch"));
  const std::vector<double> done = run_flows(platform, {{0, 5}, {1, 5}}, 4e9);
  EXPECT_NEAR(done[0], kFabricLatency + 2 * 4e9 / kFabric, 1e-12);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

// Across nodes on one switch: NIC latency + one switch hop + bytes / NIC bandwidth.
TEST(ClusterPlatform, FlowAcrossNodesOnOneSwitchTakesNicLatencyAndBandwidth) {
  const ClusterPlatform platform(cluster(4, 8, "single-switch"));
  const std::vector<double> done = run_flows(platform, {{3, 8 + 3}}, 1e9);
  EXPECT_NEAR(done[0], kNicLatency + kSwitchLatency + 1e9 / kNic, 1e-12);
}

// Fat tree, 2 nodes per leaf, one NIC per node, oversubscription 2: a leaf's uplink carries
// 2 x 50 / 2 = 50 GB/s. Two flows from leaf 0 to leaf 1 cross it and each gets half (25 GB/s);
// the route crosses three switches.
TEST(FatTree, TwoFlowsCrossingOneOversubscribedUplinkEachGetHalf) {
  const ClusterPlatform platform(cluster(4, 1, "fat-tree", 2, 2.0));
  const std::vector<double> done = run_flows(platform, {{0, 2}, {1, 3}}, 1e9);
  EXPECT_NEAR(done[0], kNicLatency + 3 * kSwitchLatency + 1e9 / (kNic / 2), 1e-12);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

// The same two flows on a non-blocking fat tree (uplink 100 GB/s) each run at NIC speed.
TEST(FatTree, NonBlockingUplinkLetsBothFlowsRunAtNicSpeed) {
  const ClusterPlatform platform(cluster(4, 1, "fat-tree", 2, 1.0));
  const std::vector<double> done = run_flows(platform, {{0, 2}, {1, 3}}, 1e9);
  EXPECT_NEAR(done[0], kNicLatency + 3 * kSwitchLatency + 1e9 / kNic, 1e-12);
}

// Flows within one leaf never touch the uplink: oversubscription does not slow them.
TEST(FatTree, FlowsWithinOneLeafIgnoreOversubscription) {
  const ClusterPlatform platform(cluster(4, 1, "fat-tree", 2, 4.0));
  const std::vector<double> done = run_flows(platform, {{0, 1}, {2, 3}}, 1e9);
  EXPECT_NEAR(done[0], kNicLatency + kSwitchLatency + 1e9 / kNic, 1e-12);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

// Rail-optimized, 8 GPUs and 8 NICs per node, 4 nodes per rail leaf, oversubscription 4 (a rail
// leaf's uplink: 4 x 50 / 4 = 50 GB/s). GPU 0 of node 0 to GPU 0 of node 1 stays on rail 0's leaf;
// two flows to other rails (GPU 0 -> GPU 1 of node 1, GPU 2 -> GPU 3 of node 1) cross rail 0's and
// rail 2's uplinks, each alone at NIC speed; two flows leaving rail 0 share its uplink.
TEST(RailOptimized, SameRailStaysOnItsLeafOtherRailsCrossTheSpine) {
  const ClusterPlatform platform(cluster(4, 8, "rail-optimized", 4, 4.0));
  EXPECT_EQ(platform.topology().hops(platform.nic_of(0), platform.nic_of(8)), 1);
  EXPECT_EQ(platform.topology().hops(platform.nic_of(0), platform.nic_of(9)), 3);
  const std::vector<double> done = run_flows(platform, {{0, 8}, {1, 16 + 2}}, 1e9);
  // Different rails' uplinks: no sharing.
  EXPECT_NEAR(done[0], kNicLatency + kSwitchLatency + 1e9 / kNic, 1e-12);
  EXPECT_NEAR(done[1], kNicLatency + 3 * kSwitchLatency + 1e9 / kNic, 1e-12);
}

TEST(RailOptimized, TwoFlowsLeavingOneRailLeafShareItsUplink) {
  const ClusterPlatform platform(cluster(4, 8, "rail-optimized", 4, 4.0));
  // Nodes 0 and 1 (rail 0 leaf) to rail 1 of nodes 2 and 3: both cross rail 0's uplink (50 GB/s).
  const std::vector<double> done = run_flows(platform, {{0, 16 + 1}, {8, 24 + 1}}, 1e9);
  EXPECT_NEAR(done[0], kNicLatency + 3 * kSwitchLatency + 1e9 / (kNic / 2), 1e-12);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

// NICs per node fewer than GPUs: GPUs share them (GPU g uses NIC g * nics / gpus), so two GPUs
// behind one NIC sending off-node share it.
TEST(ClusterPlatform, GpusBehindOneNicShareIt) {
  const ClusterPlatform platform(cluster(2, 8, "single-switch", 2, 1.0, 2));
  EXPECT_EQ(platform.nic_of(3), 0);
  EXPECT_EQ(platform.nic_of(4), 1);
  EXPECT_EQ(platform.nic_of(12), 3);
  const std::vector<double> done = run_flows(platform, {{0, 8}, {1, 12}}, 1e9);
  EXPECT_NEAR(done[0], kNicLatency + kSwitchLatency + 2e9 / kNic, 1e-12);
}

// A GPU reaches its node's host over its own host link (D2H and H2D apart); other nodes' hosts
// have no route.
TEST(ClusterPlatform, GpuReachesItsHostOverItsOwnHostLink) {
  const ClusterPlatform platform(cluster(2, 4, "single-switch"));
  Engine engine(platform.spec());
  double down = -1.0, up = -1.0;
  const auto gpu = static_cast<EndpointId>(platform.gpu_endpoint(5));
  const auto host = static_cast<EndpointId>(platform.host_endpoint(1));
  engine.transfer(gpu, host, 6e9, [&] { down = engine.now(); });
  engine.transfer(host, gpu, 6.4e9, [&] { up = engine.now(); });
  EXPECT_THROW(engine.transfer(gpu, static_cast<EndpointId>(platform.host_endpoint(0)), 1.0, [] {}),
               std::invalid_argument);
  engine.run();
  EXPECT_NEAR(down, 1e-6 + 6e9 / 60e9, 1e-12);
  EXPECT_NEAR(up, 1e-6 + 6.4e9 / 64e9, 1e-12);
}

// Names and counts: endpoints per node = GPUs + host; links = 4 per GPU + 2 per NIC + topology's.
TEST(ClusterPlatform, BuildsOneEndpointPerGpuAndHostAndTheTopologysLinks) {
  const ClusterPlatform platform(cluster(8, 8, "fat-tree", 2, 2.0));
  EXPECT_EQ(platform.spec().endpoints.size(), 8u * 9u);
  EXPECT_EQ(platform.spec().endpoints[platform.gpu_endpoint(13)], "n1.gpu5");
  EXPECT_EQ(platform.spec().endpoints[platform.host_endpoint(7)], "n7.host");
  EXPECT_EQ(platform.spec().links.size(), 4u * 64u + 2u * 64u + 2u * 4u);
  EXPECT_EQ(platform.switches(), 4 + 8);  // 4 leaves; 16 NICs per leaf / 2 = 8 spines
}

}  // namespace
}  // namespace servesim

namespace servesim {
namespace {

// Two GPUs behind one PCIe switch (gpus_per_host_switch 2) copying to the host at once share its
// uplink: each takes latency + 2 x bytes / D2H; GPUs behind different switches do not: latency + bytes / D2H.
std::vector<double> copies_to_host(const std::vector<int64_t>& gpus, double bytes) {
  ClusterSpec c = cluster(1, 4, "single-switch");
  c.node.gpus_per_host_switch = 2;
  const ClusterPlatform platform(c);
  Engine engine(platform.spec());
  std::vector<double> done(gpus.size(), -1.0);
  for (std::size_t i = 0; i < gpus.size(); ++i) {
    engine.transfer(static_cast<EndpointId>(platform.gpu_endpoint(gpus[i])),
                    static_cast<EndpointId>(platform.host_endpoint(0)), bytes,
                    [&done, &engine, i] { done[i] = engine.now(); });
  }
  engine.run();
  return done;
}

TEST(ClusterPlatform, GpusBehindOnePcieSwitchShareItsUplinkToTheHost) {
  const std::vector<double> done = copies_to_host({0, 1}, 6e9);
  EXPECT_NEAR(done[0], 1e-6 + 2 * 6e9 / 60e9, 1e-12);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

TEST(ClusterPlatform, GpusBehindDifferentPcieSwitchesCopyAtFullRate) {
  const std::vector<double> done = copies_to_host({0, 2}, 6e9);
  EXPECT_NEAR(done[0], 1e-6 + 6e9 / 60e9, 1e-12);
  EXPECT_NEAR(done[1], done[0], 1e-12);
}

}  // namespace
}  // namespace servesim

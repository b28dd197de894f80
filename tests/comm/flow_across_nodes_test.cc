// Claims about flow collectives whose group spans nodes, on a cluster platform (hardware/platform),
// with closed-form oracles (one engine per test: SimGrid allows one per process). System: 2 nodes of 4 GPUs (fabric ports 400 GB/s), NICs of 10 GB/s on one
// switch, step latency 20 us (above every route's latency), efficiency 0.8. The NICs are the bottleneck:
// per ring step a NIC carries one channel's chunk S / (g n) (g = 4 channels), a fabric port (g-1) of them.
#include <gtest/gtest.h>

#include <vector>

#include "hardware/platform/cluster_platform.h"
#include "models/comm/impl/flow.h"
#include "sim/core/engine.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

constexpr double kNic = 10e9, kFabric = 400e9;
constexpr double kStep = 20e-6, kEfficiency = 0.8;
constexpr double kBytes = 64e6;
constexpr int64_t kNodes = 2, kGpus = 4;

ClusterSpec cluster(int64_t nics_per_node) {
  ClusterSpec c;
  c.node.gpus_per_node = kGpus;
  c.node.fabric.bytes_per_s = kFabric;
  c.node.fabric.latency_s = 1e-6;
  c.node.host_link = {"pcie", 64e9, 60e9, 1e-6};
  c.nodes = kNodes;
  c.network.topology = "single-switch";
  c.network.topology_params = default_params(Registry<NetworkTopology>::instance().find("single-switch")->info.params);
  c.network.nic = {"nic", kNic, 2e-6};
  c.network.nics_per_node = nics_per_node;
  c.network.switch_spec = {"switch", 0.5e-6, 64};
  return c;
}

FlowParams params(bool fuse) {
  FlowParams p;
  p.step_latency_s = kStep;
  p.efficiency = kEfficiency;
  p.fuse_steps = fuse;
  p.link_bytes_per_s = kFabric;
  return p;
}

double run(const ClusterPlatform& platform, Collective collective, bool fuse = false) {
  Engine engine(platform.spec());
  std::vector<EndpointId> group;
  for (int64_t g = 0; g < kNodes * kGpus; ++g) group.push_back(static_cast<EndpointId>(platform.gpu_endpoint(g)));
  EXPECT_LT(engine.route_latency(group[3], group[4]), kStep);
  FlowCollectives model(params(fuse));
  double done = -1.0;
  model.start(engine, collective, group, kNodes, kBytes, 1, [&] { done = engine.now(); });
  engine.run();
  return done;
}

// Ring all-reduce over 8 GPUs on 2 nodes: 2(n-1) steps of step latency + S / (g n) / (B_nic e).
TEST(FlowAcrossNodes, RingAllReduceRunsOneChannelThroughEachNic) {
  const ClusterPlatform platform(cluster(0));
  const double n = kNodes * kGpus;
  const double expected = 2.0 * (n - 1.0) * (kStep + kBytes / (kGpus * n) / (kNic * kEfficiency));
  EXPECT_NEAR(run(platform, Collective::kAllReduce), expected, 1e-9 * expected);
}

// Fused steps (one flow per pair for the whole collective): the same time on idle links.
TEST(FlowAcrossNodes, FusedRingAllReduceTakesTheSameTime) {
  const ClusterPlatform platform(cluster(0));
  const double n = kNodes * kGpus;
  const double expected = 2.0 * (n - 1.0) * (kStep + kBytes / (kGpus * n) / (kNic * kEfficiency));
  EXPECT_NEAR(run(platform, Collective::kAllReduce, true), expected, 1e-9 * expected);
}

// All-gather: n - 1 such steps.
TEST(FlowAcrossNodes, RingAllGatherIsHalfTheSteps) {
  const ClusterPlatform platform(cluster(0));
  const double n = kNodes * kGpus;
  const double expected = (n - 1.0) * (kStep + kBytes / (kGpus * n) / (kNic * kEfficiency));
  EXPECT_NEAR(run(platform, Collective::kAllGather), expected, 1e-9 * expected);
}

// One NIC per node: the g channels leave through the same NIC, which then carries g chunks per step.
TEST(FlowAcrossNodes, GpusSharingOneNicCarryEveryChannelThroughIt) {
  const ClusterPlatform platform(cluster(1));
  const double n = kNodes * kGpus;
  const double expected = 2.0 * (n - 1.0) * (kStep + kBytes / n / (kNic * kEfficiency));
  EXPECT_NEAR(run(platform, Collective::kAllReduce), expected, 1e-9 * expected);
}

// The channel rings are rings: every rank sends once and receives once per channel, so per step the bytes
// leaving all ranks are S (n chunks of S / n), and every rank both sends and receives.
TEST(FlowAcrossNodes, ChannelRingStepsMoveOneChunkPerRank) {
  const std::vector<FlowStep> steps = flow_steps(Collective::kAllReduce, FlowAllReduceAlgorithm::kRing, kBytes, 16, 2);
  ASSERT_EQ(steps.size(), 30u);
  std::vector<double> out(16, 0.0), in(16, 0.0);
  double total = 0.0;
  int crossing = 0;
  for (const FlowChunk& c : steps[0]) {
    out[static_cast<std::size_t>(c.src)] += c.bytes;
    in[static_cast<std::size_t>(c.dst)] += c.bytes;
    total += c.bytes;
    if (c.src / 8 != c.dst / 8) {
      ++crossing;
      EXPECT_EQ(c.src % 8, c.dst % 8) << "rail-aligned with an even node count";
    }
  }
  EXPECT_NEAR(total, kBytes, 1e-6);
  for (int r = 0; r < 16; ++r) {
    EXPECT_NEAR(out[static_cast<std::size_t>(r)], kBytes / 16.0, 1e-6) << r;
    EXPECT_NEAR(in[static_cast<std::size_t>(r)], kBytes / 16.0, 1e-6) << r;
  }
  EXPECT_EQ(crossing, 16) << "8 channels cross each of the 2 node boundaries once, each through its own GPU";
}

}  // namespace
}  // namespace servesim

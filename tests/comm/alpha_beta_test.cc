// Claims about alpha-beta collectives spanning nodes, with closed-form oracles. System: nodes of g
// GPUs, an intra-node all-reduce fit (alpha_ar, B_bus), an inter-node send/recv fit (alpha_nic,
// B_nic: one GPU per node, through their NICs), one NIC per GPU. See models/comm/impl/alpha_beta.cc.
#include <gtest/gtest.h>

#include <algorithm>

#include "models/comm/collective_model.h"

namespace servesim {
namespace {

constexpr double kAlphaAr = 20e-6, kBus = 300e9, kAlphaNic = 10e-6, kNic = 40e9;
constexpr double kBytes = 64e6;

AlphaBetaParams params() {
  AlphaBetaParams p;
  p.allreduce_latency_s = kAlphaAr;
  p.allreduce_bus_bytes_per_s = kBus;
  p.send_recv_latency_s = 5e-6;
  p.send_recv_bytes_per_s = 350e9;
  p.inter_node_send_recv_latency_s = kAlphaNic;
  p.inter_node_send_recv_bytes_per_s = kNic;
  return p;
}

// Within one node nothing changes: alpha + 2(n-1)/n S / B.
TEST(AlphaBetaAcrossNodes, OneNodeIsTheIntraNodeRing) {
  const AlphaBetaCollectives model(params());
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 8, 1), kAlphaAr + 2.0 * 7.0 / 8.0 * kBytes / kBus);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 8), model.seconds(Collective::kAllReduce, kBytes, 8, 1));
}

// One GPU on each of two nodes: the ring is two NIC hops each way: 2 alpha_nic + S / B_nic.
TEST(AlphaBetaAcrossNodes, OneGpuPerNodeIsARingOverTheNics) {
  const AlphaBetaCollectives model(params());
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 2, 2), 2.0 * kAlphaNic + kBytes / kNic);
}

// TP16 over two 8-GPU nodes: 8 channels, each leaving a node through its own NIC, so the NICs carry 1/8 of a
// GPU's ring traffic 2(n-1)/n S and the fabric 7/8 of it, at once: the slower of the two sets the time.
TEST(AlphaBetaAcrossNodes, ChannelsSpreadTheRingOverEveryGpusNic) {
  const AlphaBetaCollectives model(params());
  const double ring = 2.0 * 15.0 / 16.0 * kBytes;
  const double expected = std::max(kAlphaAr, kAlphaNic * 2.0) + std::max(7.0 / 8.0 * ring / kBus, ring / 8.0 / kNic);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 16, 2), expected);
  // Twice the GPUs per node, twice the NICs: the NIC term halves (here it dominates).
  EXPECT_LT(model.seconds(Collective::kAllReduce, kBytes, 16, 2), model.seconds(Collective::kAllReduce, kBytes, 8, 2));
  // Spanning nodes is slower than a node whose fabric is faster than its NICs.
  EXPECT_GT(model.seconds(Collective::kAllReduce, kBytes, 16, 2), model.seconds(Collective::kAllReduce, kBytes, 8, 1));
}

// The same TP16 on nodes with 2 NICs for 8 GPUs: each NIC carries 4 channels, 4 x 1/8 of the ring
// traffic; the all-to-all of EP32 on such nodes sends 4 GPUs' off-node shares through each NIC.
TEST(AlphaBetaAcrossNodes, FewerNicsThanGpusShareEachNicAmongTheirChannels) {
  AlphaBetaParams p = params();
  p.nics_per_node = 2;
  const AlphaBetaCollectives model(p);
  const double ring = 2.0 * 15.0 / 16.0 * kBytes;
  const double expected = std::max(kAlphaAr, kAlphaNic * 2.0) + std::max(7.0 / 8.0 * ring / kBus, 4.0 * ring / 8.0 / kNic);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 16, 2), expected);
  const double all_to_all = std::max(kAlphaAr, kAlphaNic) + std::max(7.0 / 32.0 * kBytes / kBus, 4.0 * 24.0 / 32.0 * kBytes / kNic);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllToAll, kBytes, 32, 4), all_to_all);
  // As many NICs as GPUs (or more) is the rail case.
  p.nics_per_node = 8;
  EXPECT_DOUBLE_EQ(AlphaBetaCollectives(p).seconds(Collective::kAllReduce, kBytes, 16, 2),
                   AlphaBetaCollectives(params()).seconds(Collective::kAllReduce, kBytes, 16, 2));
}

// All-gather and reduce-scatter: half the ring traffic and half the inter-node hops.
TEST(AlphaBetaAcrossNodes, AllGatherIsHalfAnAllReduceRing) {
  const AlphaBetaCollectives model(params());
  const double ring = 15.0 / 16.0 * kBytes;
  const double expected = std::max(kAlphaAr, kAlphaNic) + std::max(7.0 / 8.0 * ring / kBus, ring / 8.0 / kNic);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllGather, kBytes, 16, 2), expected);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kReduceScatter, kBytes, 16, 2), expected);
}

// EP32 over four nodes: every GPU sends S/32 to each other GPU: 7/32 S over the fabric, 24/32 S through its NIC.
TEST(AlphaBetaAcrossNodes, AllToAllSendsTheOffNodeSharesThroughTheNic) {
  const AlphaBetaCollectives model(params());
  const double expected = std::max(kAlphaAr, kAlphaNic) + std::max(7.0 / 32.0 * kBytes / kBus, 24.0 / 32.0 * kBytes / kNic);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllToAll, kBytes, 32, 4), expected);
}

// A fitted inter-node all-reduce (one GPU per node) replaces the send/recv numbers for rings across nodes.
TEST(AlphaBetaAcrossNodes, AFittedInterNodeAllReduceSetsTheNicRing) {
  AlphaBetaParams p = params();
  p.inter_node_allreduce_latency_s = 30e-6;
  p.inter_node_allreduce_bus_bytes_per_s = 30e9;
  const AlphaBetaCollectives model(p);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 2, 2), 30e-6 + kBytes / 30e9);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllReduce, kBytes, 4, 4), 3.0 * 30e-6 + 1.5 * kBytes / 30e9);
}

}  // namespace
}  // namespace servesim

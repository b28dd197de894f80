// Claims about the platform of a run without a cluster (replicas that share nothing), with
// closed-form oracles. System: replicas on a node whose GPUs each have a PCIe link of 64 GB/s
// GPU-to-host and 60 GB/s host-to-GPU, 1 us latency.
#include "hardware/platform/replica_links_platform.h"

#include <gtest/gtest.h>

#include <string>

namespace servesim {
namespace {

NodeSpec node(int64_t gpus_per_host_switch) {
  NodeSpec n;
  n.gpus_per_node = 8;
  n.gpus_per_host_switch = gpus_per_host_switch;
  n.host_link = {"pcie", 60e9, 64e9, 1e-6};  // h2d, d2h
  return n;
}

// Each GPU of a TP-4 replica moves its share over its own link: 4 links' bandwidth, one latency.
TEST(ReplicaHostLink, EachGpuOfAReplicaAddsItsOwnHostLink) {
  const HostLinkSpec link = replica_host_link(node(1), 4);
  EXPECT_DOUBLE_EQ(link.d2h_bytes_per_s, 4 * 64e9);
  EXPECT_DOUBLE_EQ(link.h2d_bytes_per_s, 4 * 60e9);
  EXPECT_DOUBLE_EQ(link.latency_s, 1e-6);
}

// Two GPUs behind one PCIe switch share its uplink: TP 4 = 2 uplinks, TP 1 and TP 2 = 1, TP 3 = 2.
TEST(ReplicaHostLink, GpusBehindOneSwitchShareItsUplink) {
  EXPECT_DOUBLE_EQ(replica_host_link(node(2), 4).d2h_bytes_per_s, 2 * 64e9);
  EXPECT_DOUBLE_EQ(replica_host_link(node(2), 2).d2h_bytes_per_s, 64e9);
  EXPECT_DOUBLE_EQ(replica_host_link(node(2), 1).d2h_bytes_per_s, 64e9);
  EXPECT_DOUBLE_EQ(replica_host_link(node(2), 3).h2d_bytes_per_s, 2 * 60e9);
}

ReplicaLinksSpec spec(std::size_t replicas) {
  ReplicaLinksSpec s;
  s.host_links.assign(replicas, node(1).host_link);
  return s;
}

TEST(ReplicaLinksPlatform, OneReplicaHasUnindexedGpuAndHostWithTwoLinks) {
  const ReplicaLinksPlatform platform(spec(1));
  const PlatformSpec& p = platform.spec();
  ASSERT_EQ(p.endpoints.size(), 2u);
  EXPECT_EQ(p.endpoints[platform.gpu_endpoint(0)], "gpu");
  EXPECT_EQ(p.endpoints[platform.host_endpoint(0)], "host");
  ASSERT_EQ(p.links.size(), 2u);
  EXPECT_EQ(p.links[platform.host_link(0, true)].name, "d2h");
  EXPECT_DOUBLE_EQ(p.links[platform.host_link(0, true)].bytes_per_s, 64e9);
  EXPECT_DOUBLE_EQ(p.links[platform.host_link(0, false)].bytes_per_s, 60e9);
  EXPECT_EQ(platform.offload_endpoint(0), platform.host_endpoint(0));  // no CXL: offload to the host
}

TEST(ReplicaLinksPlatform, ReplicasDoNotShareAnyLink) {
  const ReplicaLinksPlatform platform(spec(3));
  EXPECT_EQ(platform.spec().endpoints.size(), 6u);
  EXPECT_EQ(platform.spec().links.size(), 6u);
  EXPECT_NE(platform.host_link(0, true), platform.host_link(1, true));
  EXPECT_EQ(platform.spec().endpoints[platform.gpu_endpoint(2)], "gpu2");
}

TEST(ReplicaLinksPlatform, CxlOffloadGivesEachReplicaAnExpanderBehindItsHostLink) {
  ReplicaLinksSpec s = spec(2);
  s.offload = OffloadDevice::kCxl;
  s.cxl.bytes_per_s = 30e9;
  const ReplicaLinksPlatform platform(s);
  EXPECT_EQ(platform.spec().endpoints[platform.offload_endpoint(1)], "cxl1");
  EXPECT_DOUBLE_EQ(platform.spec().links[platform.cxl_link(1, true)].bytes_per_s, 30e9);
  // GPU -> CXL crosses the replica's D2H link, then the expander's write link.
  bool found = false;
  for (const PlatformSpec::Route& r : platform.spec().routes) {
    if (r.src == "gpu1" && r.dst == "cxl1") {
      found = true;
      EXPECT_EQ(r.links, (std::vector<std::string>{"d2h1", "cxl_w1"}));
    }
  }
  EXPECT_TRUE(found);
}

TEST(ReplicaLinksPlatform, SsdOffloadPutsADiskOnEachReplicasHost) {
  ReplicaLinksSpec s = spec(2);
  s.offload = OffloadDevice::kSsd;
  s.ssd.read_bytes_per_s = 7e9;
  s.ssd.write_bytes_per_s = 5e9;
  const ReplicaLinksPlatform platform(s);
  ASSERT_EQ(platform.spec().disks.size(), 2u);
  EXPECT_EQ(platform.ssd_disk(0), "ssd0");
  EXPECT_EQ(platform.spec().disks[1].endpoint, "host1");
}

// Disaggregated 2 prefill + 1 decode: a KV route from each prefill replica to the decode one, out
// of its kv_tx (with the latency) into the decode replica's kv_rx (none).
TEST(ReplicaLinksPlatform, DisaggregationRoutesEachPrefillReplicaToEachDecodeReplica) {
  ReplicaLinksSpec s = spec(3);
  s.prefill_replicas = 2;
  s.kv_link_bytes_per_s = 50e9;
  s.kv_link_latency_s = 5e-6;
  const ReplicaLinksPlatform platform(s);
  int kv_routes = 0;
  for (const PlatformSpec::Route& r : platform.spec().routes) {
    if (r.dst == "gpu2" && r.src.rfind("gpu", 0) == 0) {
      ++kv_routes;
      EXPECT_EQ(r.links, (std::vector<std::string>{"kv_tx" + r.src.substr(3), "kv_rx2"}));
    }
  }
  EXPECT_EQ(kv_routes, 2);
  const PlatformSpec::Link& rx = platform.spec().links.back();
  EXPECT_EQ(rx.name, "kv_rx2");
  EXPECT_DOUBLE_EQ(rx.latency_s, 0.0);
}

TEST(ReplicaLinksPlatform, AReplicaWithoutAHostLinkHasNoSsd) {
  ReplicaLinksSpec s = spec(1);
  s.host_links[0] = {};
  s.offload = OffloadDevice::kSsd;
  const ReplicaLinksPlatform platform(s);
  EXPECT_FALSE(platform.has_host_link(0));
  EXPECT_THROW(platform.ssd_disk(0), std::invalid_argument);
}

}  // namespace
}  // namespace servesim

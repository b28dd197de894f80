// Claims about the energy of a cluster's devices besides its GPUs, with closed-form oracles.
// System: 2 nodes of 4 GPUs, 2 CPU sockets of 56 cores per node (100 W idle, 350 W TDP), DRAM 50 W
// idle and 10 pJ/bit, one NIC per GPU (50 GB/s; 15 W idle, 25 W at line rate both ways) on one
// 64-port switch (500 W idle, 750 W with every port busy); a run of 10 s.
#include "hardware/platform/platform_energy.h"

#include <gtest/gtest.h>

#include <string>

#include "sim/core/registry.h"

namespace servesim {
namespace {

constexpr double kSeconds = 10.0, kNic = 50e9;

ClusterSpec cluster(bool with_switch_power = true) {
  ClusterSpec c;
  c.node.gpus_per_node = 4;
  c.node.fabric.bytes_per_s = 400e9;
  c.node.host_link = {"pcie", 64e9, 60e9, 1e-6};
  c.node.cpu.name = "xeon";
  c.node.cpu.sockets = 2;
  c.node.cpu.cores_per_socket = 56;
  c.node.cpu.socket_power = {100.0, 350.0};
  c.node.cpu.memory.idle_w = 50.0;
  c.node.cpu.memory.access_j_per_byte = 8 * 10e-12;
  c.nodes = 2;
  c.network.topology = "single-switch";
  c.network.topology_params = default_params(Registry<NetworkTopology>::instance().find("single-switch")->info.params);
  c.network.nic = {"nic", kNic, 1e-6, {15.0, 25.0}};
  c.network.switch_spec = {"sw", 0.3e-6, 64, with_switch_power ? DevicePower{500.0, 750.0} : DevicePower{}};
  return c;
}

PlatformActivity idle(const ClusterPlatform& platform) {
  PlatformActivity a;
  a.duration_s = kSeconds;
  a.link_bytes.assign(platform.spec().links.size(), 0.0);
  return a;
}

const DeviceEnergy& device(const PlatformEnergy& e, const std::string& name) {
  for (const DeviceEnergy& d : e.devices) {
    if (d.device == name) return d;
  }
  static const DeviceEnergy none;
  ADD_FAILURE() << "no device " << name;
  return none;
}

// With nothing moved and no busy core every device draws its idle power for the whole run.
TEST(PlatformEnergy, AnIdleRunChargesEveryDevicesIdlePowerForItsDuration) {
  const ClusterSpec spec = cluster();
  const ClusterPlatform platform(spec);
  const PlatformEnergy e = platform_energy(platform, spec, idle(platform));
  EXPECT_DOUBLE_EQ(device(e, "cpu").idle_j, 4 * 100.0 * kSeconds);
  EXPECT_DOUBLE_EQ(device(e, "dram").idle_j, 2 * 50.0 * kSeconds);
  EXPECT_DOUBLE_EQ(device(e, "nic").idle_j, 8 * 15.0 * kSeconds);
  // The 8 NICs occupy 8 of the switch's 64 ports: an eighth of its idle power.
  EXPECT_DOUBLE_EQ(device(e, "switch").idle_j, 500.0 * 8.0 / 64.0 * kSeconds);
  for (const DeviceEnergy& d : e.devices) EXPECT_EQ(d.active_j, 0.0) << d.device;
  EXPECT_DOUBLE_EQ(e.total_j(), (400.0 + 100.0 + 120.0 + 62.5) * kSeconds);
}

// S bytes from a GPU of node 0 to one of node 1 cross the sender's NIC (tx) and the receiver's (rx):
// (25 - 15) W x 2 S / (2 x 50 GB/s); they enter the switch once: (750 - 500) W x S / (64 x 50 GB/s).
TEST(PlatformEnergy, BytesBetweenNodesChargeTheNicsAndTheSwitchAtTheirLineRate) {
  const ClusterSpec spec = cluster();
  const ClusterPlatform platform(spec);
  PlatformActivity a = idle(platform);
  const double s = 100e9;
  a.link_bytes[platform.nic_link(platform.nic_of(0), true)] += s;
  a.link_bytes[platform.nic_link(platform.nic_of(4), false)] += s;
  const PlatformEnergy e = platform_energy(platform, spec, a);
  EXPECT_DOUBLE_EQ(device(e, "nic").active_j, 10.0 * 2 * s / (2 * kNic));
  EXPECT_DOUBLE_EQ(device(e, "switch").active_j, 250.0 * s / (64 * kNic));
}

// Each busy core adds (TDP - idle) / cores of its socket for the whole run.
TEST(PlatformEnergy, BusyCoresAddTheirShareOfTheSocketsDynamicPower) {
  const ClusterSpec spec = cluster();
  const ClusterPlatform platform(spec);
  PlatformActivity a = idle(platform);
  a.busy_cores = 3;
  EXPECT_DOUBLE_EQ(device(platform_energy(platform, spec, a), "cpu").active_j, 3 * 250.0 / 56 * kSeconds);
}

// Bytes over the GPUs' host links are DRAM accesses: 10 pJ/bit x 8 bits per byte.
TEST(PlatformEnergy, HostLinkBytesAreDramAccesses) {
  const ClusterSpec spec = cluster();
  const ClusterPlatform platform(spec);
  PlatformActivity a = idle(platform);
  a.link_bytes[platform.gpu_link(1, ClusterPlatform::GpuLink::kD2h)] = 1e9;
  a.link_bytes[platform.gpu_link(6, ClusterPlatform::GpuLink::kH2d)] = 3e9;
  EXPECT_DOUBLE_EQ(device(platform_energy(platform, spec, a), "dram").active_j, 80e-12 * 4e9);
}

// A device the catalog gives no power for is named, not charged.
TEST(PlatformEnergy, ADeviceWithoutPowerNumbersIsListedAndNotCharged) {
  const ClusterSpec spec = cluster(false);
  const ClusterPlatform platform(spec);
  const PlatformEnergy e = platform_energy(platform, spec, idle(platform));
  ASSERT_EQ(e.not_given.size(), 1u);
  EXPECT_EQ(e.not_given[0], "switch sw");
  for (const DeviceEnergy& d : e.devices) EXPECT_NE(d.device, "switch");
}

// Off a cluster: three replicas of 3 GPUs each (9 GPUs) on 4-GPU nodes are packed on ceil(9 / 4) = 3
// whole nodes: 6 sockets idle, one busy core per replica ((350 - 100) / 56 W each), 3 DRAMs idle
// plus 10 pJ/bit over the host links' bytes.
TEST(ReplicasHostEnergy, ReplicasArePackedOntoWholeNodesOfTheirKind) {
  const NodeSpec node = cluster().node;
  std::vector<ReplicaHostUse> uses(3);
  for (ReplicaHostUse& u : uses) {
    u.node = &node;
    u.gpus = 3;
    u.host_bytes = 1e9;
  }
  const PlatformEnergy e = replicas_host_energy(uses, kSeconds);
  EXPECT_EQ(device(e, "cpu").count, 6);
  EXPECT_DOUBLE_EQ(device(e, "cpu").idle_j, 6 * 100.0 * kSeconds);
  EXPECT_DOUBLE_EQ(device(e, "cpu").active_j, 3 * 250.0 / 56.0 * kSeconds);
  EXPECT_EQ(device(e, "dram").count, 3);
  EXPECT_DOUBLE_EQ(device(e, "dram").idle_j, 3 * 50.0 * kSeconds);
  EXPECT_DOUBLE_EQ(device(e, "dram").active_j, 3e9 * 8 * 10e-12);
}

// Each replica's CXL expander is its own: two replicas, two expanders; the bytes that went on to the
// expander are not DRAM accesses. Nodes of two kinds add up into one entry per device.
TEST(ReplicasHostEnergy, EachReplicaHasItsOwnExpanderAndNodeKindsAddUp) {
  NodeSpec a = cluster().node, b = cluster().node;
  a.name = "a";
  b.name = "b";
  b.cpu.sockets = 1;
  a.cxl.bytes_per_s = b.cxl.bytes_per_s = 32e9;
  a.cxl.power = b.cxl.power = {10.0, 30.0};
  std::vector<ReplicaHostUse> uses(2);
  uses[0] = {&a, 4, 2e9, 2e9, true, false, 0.0, 0.0};
  uses[1] = {&b, 4, 1e9, 0.0, true, false, 0.0, 0.0};
  const PlatformEnergy e = replicas_host_energy(uses, kSeconds);
  EXPECT_EQ(device(e, "cpu").count, 2 + 1);
  EXPECT_EQ(device(e, "cxl").count, 2);
  EXPECT_DOUBLE_EQ(device(e, "cxl").idle_j, 2 * 10.0 * kSeconds);
  EXPECT_DOUBLE_EQ(device(e, "cxl").active_j, 20.0 * 2e9 / (2 * 32e9));
  EXPECT_DOUBLE_EQ(device(e, "dram").active_j, 1e9 * 8 * 10e-12);  // replica 0's bytes all went to CXL
  ASSERT_EQ(e.devices.size(), 3u);
  EXPECT_EQ(e.devices[0].device, "cpu");
  EXPECT_EQ(e.devices[2].device, "cxl");
}

// Two striped expanders per replica: twice the idle power; the same bytes keep the two busy half as
// long each, so the dynamic energy is one device's for all of them.
TEST(ReplicasHostEnergy, StripedExpandersCountAsDevicesAndShareTheBytes) {
  NodeSpec a = cluster().node;
  a.cxl.bytes_per_s = 32e9;
  a.cxl.power = {10.0, 30.0};
  a.cxl.devices = 2;
  std::vector<ReplicaHostUse> uses(1);
  uses[0] = {&a, 4, 2e9, 2e9, true, false, 0.0, 0.0};
  const PlatformEnergy e = replicas_host_energy(uses, kSeconds);
  EXPECT_EQ(device(e, "cxl").count, 2);
  EXPECT_DOUBLE_EQ(device(e, "cxl").idle_j, 2 * 10.0 * kSeconds);
  EXPECT_DOUBLE_EQ(device(e, "cxl").active_j, 20.0 * 2e9 / (2 * 32e9));
}

}  // namespace
}  // namespace servesim

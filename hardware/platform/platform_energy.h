#pragma once
// Contract: energy of a cluster's devices besides its GPUs over a run (host CPU sockets, host DRAM,
// NICs, switches, CXL expanders, SSDs), from each device's idle and full-load power (the hardware
// catalog's DevicePower) and what the run made it do. Power is linear in utilisation between idle
// and full load (SimGrid's link-energy model), so a device's energy is idle_w x duration + (active_w
// - idle_w) x its busy-equivalent seconds:
//   NIC      (tx bytes + rx bytes) / (2 x NIC bandwidth)        (full load: line rate both ways)
//   switch   bytes entering it / (ports x NIC bandwidth): every byte a NIC sends enters its first
//            switch, every byte on a topology link (leaf up/down) enters one more. Idle power is
//            charged for the share of the switches' ports the cluster occupies (NICs and both ends
//            of switch-to-switch cables, NetworkTopology::ports_used): a two-node cluster on
//            64-port switches pays for its ports, not for whole switches it would share
//   CXL      (bytes written + read) / (2 x its bandwidth)
//   SSD      bytes read / read bandwidth + bytes written / write bandwidth
//   CPU      one core per replica busy for the whole run (the serving engine's scheduler process):
//            busy cores x (TDP - idle) / cores per socket x duration; the rest of each socket idles
//   DRAM     idle power x duration + access energy per byte x the bytes crossing the GPUs' host links
//            that do not go on to a CXL expander (swaps, offload to DRAM, SSD staging)
// Devices whose power the catalog does not give are listed in `not_given` and charged nothing.
// Not modelled: per-iteration host work beyond the busy core, PCIe switches and retimers, fans,
// power-supply losses, NVLink switch trays. Joules, seconds, bytes. Pure function.

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/platform/cluster_platform.h"
#include "hardware/platform/cluster_spec.h"

namespace servesim {

/// What the run made the devices do.
struct PlatformActivity {
  double duration_s = 0.0;
  std::vector<double> link_bytes;       // by spec().links index (Engine::link_bytes)
  std::vector<double> ssd_read_bytes;   // by node (empty without SSDs)
  std::vector<double> ssd_write_bytes;  // by node
  int64_t busy_cores = 0;               // host cores kept busy for the whole run, over all nodes
};

/// One kind of device: how many and their energy.
struct DeviceEnergy {
  std::string device;  // "cpu", "dram", "nic", "switch", "cxl", "ssd"
  int64_t count = 0;
  double idle_j = 0.0;    // idle_w x duration, all of them
  double active_j = 0.0;  // (active_w - idle_w) x busy-equivalent seconds, all of them
  double total_j() const { return idle_j + active_j; }
};

struct PlatformEnergy {
  std::vector<DeviceEnergy> devices;    // in the order above, those present with power given
  std::vector<std::string> not_given;   // present devices without power numbers ("switch quantum-2")
  double total_j() const;
};

/// The devices of `platform` (built from `cluster`) over a run with `activity`.
PlatformEnergy platform_energy(const ClusterPlatform& platform, const ClusterSpec& cluster,
                               const PlatformActivity& activity);

/// One replica of a run without a cluster (ReplicaLinksPlatform) and what it made its host devices do.
struct ReplicaHostUse {
  const NodeSpec* node = nullptr;  // the kind of node it runs on
  int64_t gpus = 0;
  double host_bytes = 0.0;  // over its host link, both ways
  double cxl_bytes = 0.0;   // written to and read from its CXL expander
  bool has_cxl = false;     // an expander of its own (offload tier "cxl")
  bool has_ssd = false;     // an SSD of its own (offload tier "ssd")
  double ssd_read_bytes = 0.0;
  double ssd_write_bytes = 0.0;
};

/// Off a cluster the replicas are packed onto whole nodes of their kind, ceil(their GPUs / GPUs per
/// node) nodes, whose CPU sockets and DRAM are charged as above with one busy core per replica;
/// each replica's CXL expander and SSD are its own. No network: NICs and switches only on a cluster.
/// Devices of one kind on nodes of different kinds add up (one entry each, in the order above).
PlatformEnergy replicas_host_energy(const std::vector<ReplicaHostUse>& replicas, double duration_s);

}  // namespace servesim

#pragma once
// Contract: builds the platform of a cluster — every endpoint, link and route
// bytes can take — from a ClusterSpec, for the engine (sim/core/engine.h) to run
// flows on. Per node: one endpoint per GPU, one for the host (CPU sockets and
// their DRAM as one memory), one per CXL expander, an SSD on the host; per GPU:
// its fabric port (NVLink/NVSwitch up and down), its host link (H2D and D2H
// separate: PCIe or NVLink-C2C); NICs per GPU (rails) or shared by the node's
// GPUs; and the cluster network's links from a registered NetworkTopology.
// Routes are computed per pair on demand (PlatformSpec::route_source): GPU to
// GPU in a node over the two fabric ports, across nodes over the source NIC,
// the topology's links and the destination NIC (GPUDirect RDMA: the GPU-NIC
// PCIe hop is not modelled), GPU to its host or CXL over its host link. The
// serving code asks this for endpoints by GPU index; it never builds names.
// Not modelled: CPU sockets apart (UPI), GPU-NIC PCIe switches, NVLink-C2C
// peer access to another superchip's memory. GPUs behind one PCIe switch (gpus_per_host_switch)
// share its uplink to the CPU on their way to the host and CXL.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hardware/platform/cluster_spec.h"
#include "hardware/platform/network_topology.h"
#include "sim/core/platform_spec.h"

namespace servesim {

class ClusterPlatform {
 public:
  /// Builds everything; throws ConfigError-free std::invalid_argument on an inconsistent spec
  /// (callers validate user input first).
  explicit ClusterPlatform(const ClusterSpec& cluster);

  /// The engine's input (endpoints, links, disks and the route source).
  const PlatformSpec& spec() const { return spec_; }
  int64_t nodes() const { return nodes_; }
  int64_t gpus_per_node() const { return gpus_per_node_; }
  int64_t gpus() const { return nodes_ * gpus_per_node_; }
  int64_t node_of(int64_t gpu) const { return gpu / gpus_per_node_; }
  /// Endpoint indices (= Engine endpoint ids, in spec().endpoints order).
  std::size_t gpu_endpoint(int64_t gpu) const;
  std::size_t host_endpoint(int64_t node) const;
  /// CXL expander of `node`; only when the node has one.
  std::size_t cxl_endpoint(int64_t node) const;
  bool has_cxl() const { return has_cxl_; }
  /// Name of `node`'s SSD (a disk of spec()); only when the node has one.
  std::string ssd_disk(int64_t node) const;
  bool has_ssd() const { return has_ssd_; }
  /// NIC that GPU `gpu` sends and receives through.
  int64_t nic_of(int64_t gpu) const;
  const NetworkTopology& topology() const { return *topology_; }
  int64_t switches() const { return topology_->switches(); }
  int64_t nics() const { return nodes_ * nics_per_node_; }
  int64_t nics_per_node() const { return nics_per_node_; }

  /// Indices into spec().links of a GPU's links, a NIC's, a node's CXL links and the first of the
  /// topology's (the rest, to the end, are the network's): for charging devices with their bytes.
  enum class GpuLink { kFabricUp = 0, kFabricDown = 1, kD2h = 2, kH2d = 3 };
  std::size_t gpu_link(int64_t gpu, GpuLink which) const {
    return static_cast<std::size_t>(4 * gpu + static_cast<int64_t>(which));
  }
  std::size_t nic_link(int64_t nic, bool tx) const {
    return static_cast<std::size_t>(4 * gpus() + 2 * nic + (tx ? 0 : 1));
  }
  std::size_t cxl_link(int64_t node, bool write) const {
    return static_cast<std::size_t>(4 * gpus() + 2 * nics() + 2 * node + (write ? 0 : 1));
  }
  std::size_t network_links_begin() const {
    return static_cast<std::size_t>(4 * gpus() + 2 * nics() + (has_cxl_ ? 2 * nodes_ : 0) +
                                    (gpus_per_host_switch_ > 1 ? 2 * gpus() / gpus_per_host_switch_ : 0));
  }

 private:
  class Routes;
  int64_t nodes_ = 1;
  int64_t gpus_per_node_ = 1;
  int64_t nics_per_node_ = 1;
  bool has_cxl_ = false;
  bool has_ssd_ = false;
  int64_t gpus_per_host_switch_ = 1;
  int64_t endpoints_per_node_ = 0;
  std::shared_ptr<NetworkTopology> topology_;
  PlatformSpec spec_;
};

}  // namespace servesim

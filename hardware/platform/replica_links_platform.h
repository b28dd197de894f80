#pragma once
// Contract: the platform of a run without a "cluster": replicas share nothing. Each replica has
// one GPU endpoint (its GPUs as one), a host endpoint and its host link (D2H and H2D separate, at
// the replica's aggregate host bandwidth: replica_host_link); with an offload tier, a CXL expander
// of its own behind the host link or an SSD on its host; disaggregated, a KV link of its own
// (kv_tx out of a prefill replica, kv_rx into a decode one; the latency on the sending side only).
// Endpoints of one replica carry no index ("gpu", "host"). The serving code asks this for
// endpoints by replica; it never builds names. Not modelled here (see ClusterPlatform): replicas
// sharing a host, a PCIe switch, CXL, an SSD or a network.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hardware/spec/node_spec.h"
#include "sim/core/platform_spec.h"

namespace servesim {

/// Where a replica's offloaded KV blocks live (kNone: no offload tier).
enum class OffloadDevice { kNone, kHostMemory, kCxl, kSsd };

struct ReplicaLinksSpec {
  std::vector<HostLinkSpec> host_links;  // per replica; zero bandwidth either way = no host link
  OffloadDevice offload = OffloadDevice::kNone;
  CxlMemorySpec cxl;             // offload kCxl: each replica's expander
  SsdSpec ssd;                   // offload kSsd: each replica's SSD
  int64_t prefill_replicas = 0;  // > 0: disaggregated, the first ones prefill; every replica gets a KV link
  double kv_link_bytes_per_s = 0.0;
  double kv_link_latency_s = 0.0;
};

/// The host bandwidth of a replica of `gpus` GPUs packed on nodes like `node`: each GPU's host link
/// moves its share in parallel, and GPUs behind one PCIe switch (gpus_per_host_switch = k) share its
/// uplink of one host link's bandwidth: ceil(gpus / k) links' worth each way, one link's latency.
HostLinkSpec replica_host_link(const NodeSpec& node, int64_t gpus);

class ReplicaLinksPlatform {
 public:
  explicit ReplicaLinksPlatform(const ReplicaLinksSpec& spec);

  /// The engine's input.
  const PlatformSpec& spec() const { return spec_; }
  std::size_t replicas() const { return gpu_.size(); }
  /// Endpoint indices (= Engine endpoint ids).
  std::size_t gpu_endpoint(std::size_t replica) const { return gpu_.at(replica); }
  std::size_t host_endpoint(std::size_t replica) const { return host_.at(replica); }
  /// Where offloaded blocks are written: the replica's CXL expander, else its host.
  std::size_t offload_endpoint(std::size_t replica) const { return offload_.at(replica); }
  /// Name of the replica's SSD (a disk of spec()); only with an SSD offload tier and a host link.
  std::string ssd_disk(std::size_t replica) const;
  bool has_host_link(std::size_t replica) const { return d2h_.at(replica) != kNoLink; }
  /// Indices into spec().links of a replica's host link and its CXL links (for charging devices
  /// with their bytes); kNoLink where the replica has none.
  static constexpr std::size_t kNoLink = static_cast<std::size_t>(-1);
  std::size_t host_link(std::size_t replica, bool d2h) const { return d2h ? d2h_.at(replica) : h2d_.at(replica); }
  std::size_t cxl_link(std::size_t replica, bool write) const { return write ? cxl_w_.at(replica) : cxl_r_.at(replica); }

 private:
  std::size_t add_endpoint(const std::string& name);
  std::size_t add_link(const std::string& name, double bytes_per_s, double latency_s);
  std::string suffix(std::size_t replica) const;
  bool has_ssd_ = false;
  std::vector<std::size_t> gpu_, host_, offload_, d2h_, h2d_, cxl_w_, cxl_r_;
  PlatformSpec spec_;
};

}  // namespace servesim

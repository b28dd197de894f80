#pragma once
// Contract: the network between the cluster's NICs. A topology adds the links of
// its switches (leaf uplinks, rail groups, ...) to the platform once, then answers,
// for a flow from one NIC to another, which of those links it crosses between
// the two NICs' own links. Routing is deterministic and computed arithmetically
// per pair (no route table). A switch port is not a link of its own: a NIC's
// link is its port, and a non-blocking switch adds only latency, which sits on
// the link that enters it. Registered implementations: single-switch, fat-tree,
// rail-optimized (`servesim list network-topology`). Units: bytes/s, seconds.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/params.h"
#include "sim/core/platform_spec.h"

namespace servesim {

/// What a topology connects: NIC i of node n is NIC n * nics_per_node + i; every NIC moves
/// nic_bytes_per_s each way; every switch hop costs switch_latency_s.
struct NetworkShape {
  int64_t nodes = 1;
  int64_t nics_per_node = 1;
  double nic_bytes_per_s = 0.0;
  double switch_latency_s = 0.0;
};

class NetworkTopology {
 public:
  static constexpr const char* kInterfaceName = "network-topology";
  static constexpr const char* kInterfaceSummary =
      "switches and routes between the cluster's NICs (\"cluster\": {\"network\": {\"topology\": NAME, <parameters>}})";
  using Factory = std::function<std::unique_ptr<NetworkTopology>(const ParamValues&)>;

  virtual ~NetworkTopology() = default;
  /// Appends the topology's own links to `links` (names start with "net."); called once.
  virtual void build(const NetworkShape& shape, std::vector<PlatformSpec::Link>& links) = 0;
  /// Appends the indices (into the platform's links) of the topology links a flow from NIC `a`
  /// to NIC `b` crosses, in order; nothing when the two sit on the same switch.
  virtual void route(int64_t a, int64_t b, std::vector<std::size_t>& links) const = 0;
  /// Switch hops on the way from NIC a to NIC b (1 on the same switch).
  virtual int64_t hops(int64_t a, int64_t b) const = 0;
  /// Switches built (for the platform's inventory).
  virtual int64_t switches() const = 0;
  /// Switch ports the cluster occupies, over all switches: one per NIC plus both ends of every
  /// switch-to-switch cable (what a share of the switches' power is charged by).
  virtual int64_t ports_used() const = 0;
};

}  // namespace servesim

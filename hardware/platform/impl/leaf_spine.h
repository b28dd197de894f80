#pragma once
// Two-tier leaf/spine networks (fat-tree, rail-optimized): NICs hang off leaf
// switches; leaves reach each other through a spine layer whose links are folded
// into each leaf's aggregate uplink and downlink (perfect ECMP spreading over the
// spines: hash collisions are not modelled). A leaf's uplink carries
// (NIC bandwidth x NICs under it) / oversubscription each way.

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/platform/network_topology.h"

namespace servesim {

class LeafSpine : public NetworkTopology {
 public:
  LeafSpine(int64_t nodes_per_leaf, double oversubscription, bool rails)
      : nodes_per_leaf_(nodes_per_leaf), oversubscription_(oversubscription), rails_(rails) {}
  void build(const NetworkShape& shape, std::vector<PlatformSpec::Link>& links) override;
  void route(int64_t a, int64_t b, std::vector<std::size_t>& links) const override;
  int64_t hops(int64_t a, int64_t b) const override { return leaf_of(a) == leaf_of(b) ? 1 : 3; }
  int64_t switches() const override { return leaves_ + (leaves_ > 1 ? spines_ : 0); }
  /// NICs, plus one uplink per leaf and spine at both ends when there are spines.
  int64_t ports_used() const override { return nics_ + (leaves_ > 1 ? 2 * leaves_ * spines_ : 0); }

 private:
  /// fat-tree: all NICs of a node share its leaf; rail-optimized: NIC i of a node sits on rail i's leaf.
  int64_t leaf_of(int64_t nic) const;

  int64_t nodes_per_leaf_;
  double oversubscription_;
  bool rails_;
  int64_t nics_per_node_ = 1;
  int64_t groups_ = 1;  // leaves per rail (fat-tree: leaves)
  int64_t leaves_ = 1;
  int64_t spines_ = 0;
  int64_t nics_ = 0;
  std::size_t first_link_ = 0;  // leaf l: up = first_link_ + 2l, down = + 1
};

ParamSpecs leaf_spine_specs();

}  // namespace servesim

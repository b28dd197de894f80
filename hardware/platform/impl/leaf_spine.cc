#include "hardware/platform/impl/leaf_spine.h"

#include <cmath>

#include "sim/core/check.h"
#include "sim/core/registry.h"

namespace servesim {

ParamSpecs leaf_spine_specs() {
  return {ParamSpec::integer("nodes_per_leaf", 4, 1, 1 << 20, "nodes whose NICs share one leaf switch (per rail)"),
          ParamSpec::number("oversubscription", 1.0, 1.0, 1e6,
                            "leaf downlink / uplink bandwidth (1 = non-blocking; 2: a leaf's uplink carries half "
                            "of what its NICs can send)")};
}

int64_t LeafSpine::leaf_of(int64_t nic) const {
  const int64_t node = nic / nics_per_node_;
  const int64_t group = node / nodes_per_leaf_;
  return rails_ ? (nic % nics_per_node_) * groups_ + group : group;
}

void LeafSpine::build(const NetworkShape& shape, std::vector<PlatformSpec::Link>& links) {
  SERVESIM_CHECK(shape.nodes >= 1 && shape.nics_per_node >= 1 && shape.nic_bytes_per_s > 0.0, "network shape");
  nics_per_node_ = shape.nics_per_node;
  nics_ = shape.nodes * shape.nics_per_node;
  groups_ = (shape.nodes + nodes_per_leaf_ - 1) / nodes_per_leaf_;
  leaves_ = rails_ ? groups_ * nics_per_node_ : groups_;
  const double nics_per_leaf = static_cast<double>(nodes_per_leaf_ * (rails_ ? 1 : nics_per_node_));
  const double uplink_bytes_per_s = nics_per_leaf * shape.nic_bytes_per_s / oversubscription_;
  spines_ = static_cast<int64_t>(std::ceil(nics_per_leaf / oversubscription_));  // one uplink port per spine
  first_link_ = links.size();
  const char* kind = rails_ ? "rail-leaf" : "leaf";
  for (int64_t l = 0; l < leaves_; ++l) {
    const std::string name = std::string("net.") + kind + std::to_string(l);
    // The uplink enters a spine, the downlink the destination leaf: one switch latency each.
    links.push_back({name + ".up", uplink_bytes_per_s, shape.switch_latency_s});
    links.push_back({name + ".down", uplink_bytes_per_s, shape.switch_latency_s});
  }
}

void LeafSpine::route(int64_t a, int64_t b, std::vector<std::size_t>& links) const {
  const int64_t from = leaf_of(a), to = leaf_of(b);
  if (from == to) return;
  links.push_back(first_link_ + 2 * static_cast<std::size_t>(from));
  links.push_back(first_link_ + 2 * static_cast<std::size_t>(to) + 1);
}

SERVESIM_REGISTER(NetworkTopology, "fat-tree",
                  "two-tier leaf/spine Clos: a node's NICs on one leaf, leaves joined by spines through each "
                  "leaf's aggregate uplink (bandwidth / oversubscription)",
                  leaf_spine_specs(), [](const ParamValues& p) {
                    return std::make_unique<LeafSpine>(p.integer("nodes_per_leaf"), p.number("oversubscription"),
                                                       false);
                  });

SERVESIM_REGISTER(NetworkTopology, "rail-optimized",
                  "one leaf per rail per group of nodes (NIC i of every node on rail i, as in DGX SuperPODs); "
                  "other rails and groups through the spines (PXN forwarding over NVLink not modelled)",
                  leaf_spine_specs(), [](const ParamValues& p) {
                    return std::make_unique<LeafSpine>(p.integer("nodes_per_leaf"), p.number("oversubscription"),
                                                       true);
                  });

}  // namespace servesim

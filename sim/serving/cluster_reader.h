#pragma once
// Contract: reads "cluster" — the deployment's node ("hardware") taken `nodes`
// times and joined by a network:
//   "cluster": {"nodes": N,
//               "network": {"topology": "single-switch" | "fat-tree" | "rail-optimized", TOPOLOGY PARAMS,
//                           "nic": NIC, "nics_per_node": K, "switch": SWITCH},
//               "placement": [[GPU, ...], ...]}
// or the name of a preset in hardware/catalog/cluster (the same keys, plus "node": the hardware
// catalog entry the cluster is made of, which the config's "hardware" must name).
// NIC and SWITCH are hardware/catalog/nic and /switch names or inline objects;
// nics_per_node defaults to the node's GPUs (one NIC per GPU: rails); a one-node
// cluster has no network. "placement" lists each replica's GPUs (global index =
// node x GPUs per node + local); absent = packed node by node. Every key is
// validated with its JSON pointer; the resolved values go to config.resolved.json.

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware/platform/cluster_spec.h"
#include "sim/core/config_node.h"

namespace servesim {

struct ClusterChoice {
  ClusterSpec spec;
  std::vector<std::vector<int64_t>> placement;  // empty = pack
  nlohmann::ordered_json resolved;
};

/// Reads root["cluster"] (the caller checked it is there) for `node`.
ClusterChoice read_cluster(ConfigNode& root, const NodeSpec& node);

/// On a cluster of several nodes the path between nodes is the cluster's NICs, not the fabric's fitted
/// inter-node numbers (measured on another cluster): alpha-beta then prices inter-node traffic at 80 % of
/// the NIC's bandwidth (NCCL's typical bus efficiency, alpha-beta's fallback) and the route's latency
/// (NIC + one switch hop) per send. Applied to every pool's fabric; nothing changes on one node.
void use_cluster_network(const ClusterSpec& cluster, FabricSpec& fabric);

/// Each replica's GPUs: `placement` checked (one list per replica, `gpus[i]` GPUs each, in range,
/// no GPU twice) or, when empty, packed: replicas in order take the next free GPUs, a replica that
/// fits in a node never straddles two, a larger one takes whole nodes. ConfigError (at
/// /cluster/placement, or /cluster/nodes when the plan needs more GPUs than the cluster has).
/// An explicit placement must have the packed layout's shape (`stage_gpus[i]`: replica i's GPUs per
/// pipeline stage): each stage on as many nodes as packing gives it, evenly, and stage boundaries
/// between nodes where packing has them; the execution model prices that layout.
std::vector<std::vector<int64_t>> place_replicas(const ClusterChoice& cluster, const std::vector<int64_t>& gpus,
                                                 const std::vector<int64_t>& stage_gpus, const std::string& file);

}  // namespace servesim

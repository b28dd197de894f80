#pragma once
// Contract: what a cluster is made of beyond its nodes, as plain numbers in SI
// units (bytes/s, seconds, watts): the nodes (each a NodeSpec), how many, the
// NICs that join them to the network and the network's topology with its typed
// parameters. Filled from hardware/catalog (nic/, switch/) or inline config by
// sim/config; the platform builder reads these structs, never JSON.

#include <cstdint>
#include <string>

#include "hardware/spec/node_spec.h"
#include "sim/core/params.h"

namespace servesim {

/// One network adapter, per direction (a 400 Gb/s NIC moves 50 GB/s each way).
struct NicSpec {
  std::string name;
  double bytes_per_s = 0.0;
  double latency_s = 0.0;  // adapter + wire, one way
  DevicePower power;       // active: at bytes_per_s both ways
};

/// One switch hop of the cluster network.
struct SwitchSpec {
  std::string name;
  double latency_s = 0.0;  // port to port
  int64_t ports = 0;       // at the NICs' speed (0 = not given)
  DevicePower power;       // active: every port busy both ways
};

struct NetworkSpec {
  std::string topology = "single-switch";  // a registered NetworkTopology
  ParamValues topology_params;             // its parameters (read against its specs)
  NicSpec nic;
  int64_t nics_per_node = 0;  // = gpus_per_node: one NIC per GPU (rails); fewer: GPUs share them
  SwitchSpec switch_spec;
};

struct ClusterSpec {
  NodeSpec node;
  int64_t nodes = 1;
  NetworkSpec network;
};

}  // namespace servesim

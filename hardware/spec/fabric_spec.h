#pragma once
// Contract: the GPU-to-GPU fabric inside a node (NVLink/NVSwitch, PCIe switch) and its NCCL fits, inside and
// across nodes. Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled from
// hardware/catalog/*.json (each number with its source there) or inline config by sim/config; the models read
// these structs, never JSON.

#include <cstdint>
#include <string>

namespace servesim {

struct FabricSpec {
  std::string name;
  double bytes_per_s = 0.0;  // per GPU, one direction
  double latency_s = 0.0;
  // NCCL alpha-beta fit (models/comm); 0 = derive from bytes_per_s and latency_s.
  double allreduce_latency_s = 0.0;
  double allreduce_bus_bytes_per_s = 0.0;  // ring all-reduce moves 2(n-1)/n x size per GPU
  double send_recv_latency_s = 0.0;
  double send_recv_bytes_per_s = 0.0;
  // Send/recv between two nodes (one GPU on each, through their NICs): what a
  // pipeline stage boundary across nodes pays. 0 = not known (plans that span
  // nodes are then rejected).
  double inter_node_send_recv_latency_s = 0.0;
  double inter_node_send_recv_bytes_per_s = 0.0;
  // Ring all-reduce among nodes with one GPU on each (NCCL fit of such rows): the per-NIC ring
  // bus bandwidth collectives spanning nodes use. 0 = the inter-node send/recv numbers.
  double inter_node_allreduce_latency_s = 0.0;
  double inter_node_allreduce_bus_bytes_per_s = 0.0;
  // NICs per node the numbers above are per (a cluster's network sets it): 0 = one per GPU (rails,
  // as the NCCL fits' clusters). Fewer NICs than GPUs share each NIC among several GPUs' channels.
  int64_t inter_node_nics_per_node = 0;
  // Flow collectives (models/comm/impl/flow.h) fitted to NCCL: fixed cost of one collective
  // (kernel launch, channel setup), of one algorithm step, and payload / bytes on the wire.
  // 0 = not fitted (flow falls back to its defaults).
  double flow_launch_latency_s = 0.0;
  double flow_step_latency_s = 0.0;
  double flow_efficiency = 0.0;
  // Efficiency at n ranks = flow_efficiency x n / (n + this): NCCL reaches less of the links'
  // bandwidth in small rings. 0 = the same at every ring size.
  double flow_efficiency_half_ranks = 0.0;
};

}  // namespace servesim

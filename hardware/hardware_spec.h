#pragma once
// Contract: what one node of the serving cluster is made of, as plain numbers
// in SI units (bytes, bytes/s, FLOP/s, seconds, watts). Filled from
// hardware/catalog/*.json (each number with its source there) or inline config;
// the models read these structs, never JSON. Host-link directions are separate
// because PCIe and NVLink-C2C are not symmetric in practice.

#include <cstdint>
#include <string>

namespace servesim {

struct GpuSpec {
  std::string name;
  double bf16_flops_per_s = 0.0;  // dense peak
  double fp16_flops_per_s = 0.0;
  double fp8_flops_per_s = 0.0;
  double hbm_bytes = 0.0;
  double hbm_bytes_per_s = 0.0;
  double l2_bytes = 0.0;
  int64_t sms = 0;
  double clock_hz = 0.0;
  double tdp_w = 0.0;
  double idle_w = 0.0;
  /// Name of a calibration (fitted efficiency curves, power coefficients); empty = datasheet defaults.
  std::string calibration;
};

struct HostCpuSpec {
  std::string name;
  double launch_s = 0.0;              // host cost of launching one kernel eagerly
  double iteration_overhead_s = 0.0;  // scheduler / sampling / bookkeeping per engine iteration
  double memory_bytes = 0.0;          // host DRAM available for swapped / offloaded KV
};

struct HostLinkSpec {
  std::string name;
  double h2d_bytes_per_s = 0.0;
  double d2h_bytes_per_s = 0.0;
  double latency_s = 0.0;
};

struct FabricSpec {
  std::string name;
  double bytes_per_s = 0.0;  // per GPU, one direction
  double latency_s = 0.0;
};

struct NodeSpec {
  std::string name;
  GpuSpec gpu;
  int64_t gpus_per_node = 1;
  HostCpuSpec cpu;
  HostLinkSpec host_link;
  FabricSpec fabric;  // GPU-to-GPU inside the node (NVLink/NVSwitch)
};

}  // namespace servesim

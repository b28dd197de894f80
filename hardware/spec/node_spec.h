#pragma once
// Contract: what one node of the serving cluster is made of: its GPUs, host CPU, host links, fabric, CXL and
// SSD. Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled from hardware/catalog/*.json
// (each number with its source there) or inline config by sim/config; the models read these structs, never JSON.

#include <cstdint>
#include <string>

#include "hardware/memory/cxl_memory_spec.h"
#include "hardware/memory/ssd_spec.h"
#include "hardware/spec/fabric_spec.h"
#include "hardware/spec/gpu_spec.h"
#include "hardware/spec/host_cpu_spec.h"
#include "hardware/spec/host_link_spec.h"

namespace servesim {

struct NodeSpec {
  std::string name;
  GpuSpec gpu;
  int64_t gpus_per_node = 1;
  // GPUs whose host links meet in one PCIe switch and share its uplink to the CPU (of the host
  // link's bandwidth); 1 = every GPU has its own path to the host (NVLink-C2C, direct x16 slots).
  int64_t gpus_per_host_switch = 1;
  HostCpuSpec cpu;
  HostLinkSpec host_link;
  FabricSpec fabric;  // GPU-to-GPU inside the node (NVLink/NVSwitch)
  CxlMemorySpec cxl;  // extra memory tiers below host DRAM (KV offload)
  SsdSpec ssd;
};

}  // namespace servesim

#pragma once
// Contract: a CXL memory expander reached through the host. Plain numbers in SI units (bytes, bytes/s, FLOP/s,
// seconds, watts), filled from hardware/catalog/*.json (each number with its source there) or inline config by
// sim/config; the models read these structs, never JSON.

#include "hardware/spec/device_power.h"

namespace servesim {

/// CXL-attached memory expander reached through the host (optional; capacity 0 = none).
/// The bandwidth is per direction (CXL runs over PCIe lanes, full duplex).
struct CxlMemorySpec {
  double capacity_bytes = 0.0;
  double bytes_per_s = 0.0;
  double latency_s = 0.0;
  DevicePower power;  // active: at bytes_per_s each way
};

}  // namespace servesim

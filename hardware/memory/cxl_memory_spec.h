#pragma once
// Contract: a CXL memory expander reached through the host. Plain numbers in SI units (bytes, bytes/s, FLOP/s,
// seconds, watts), filled from hardware/catalog/*.json (each number with its source there) or inline config by
// sim/config; the models read these structs, never JSON.

#include <cstdint>

#include "hardware/spec/device_power.h"

namespace servesim {

/// CXL-attached memory expanders reached through the host (optional; capacity 0 = none): `devices`
/// identical ones per node, KV blocks striped over them (capacity and bandwidth add up). The numbers
/// are one device's; the bandwidth is per direction (CXL runs over PCIe lanes, full duplex).
struct CxlMemorySpec {
  double capacity_bytes = 0.0;
  double bytes_per_s = 0.0;
  double latency_s = 0.0;
  DevicePower power;  // one device; active: at bytes_per_s each way
  int64_t devices = 1;
  double total_capacity_bytes() const { return capacity_bytes * static_cast<double>(devices); }
  double total_bytes_per_s() const { return bytes_per_s * static_cast<double>(devices); }
};

}  // namespace servesim

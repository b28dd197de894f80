#pragma once
// Contract: an NVMe SSD on the host. Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled
// from hardware/catalog/*.json (each number with its source there) or inline config by sim/config; the models
// read these structs, never JSON.

#include "hardware/spec/device_power.h"

namespace servesim {

/// NVMe SSD attached to the host (optional; capacity 0 = none).
struct SsdSpec {
  double capacity_bytes = 0.0;
  double read_bytes_per_s = 0.0;
  double write_bytes_per_s = 0.0;
  DevicePower power;  // active: reading or writing at full bandwidth
};

}  // namespace servesim

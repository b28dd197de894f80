#pragma once
// Contract: an NVMe SSD on the host. Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled
// from hardware/catalog/*.json (each number with its source there) or inline config by sim/config; the models
// read these structs, never JSON.

#include <cstdint>

#include "hardware/spec/device_power.h"

namespace servesim {

/// NVMe SSDs attached to the host (optional; capacity 0 = none): `devices` identical ones per node,
/// KV blocks striped over them (capacity and bandwidth add up). The numbers are one drive's.
struct SsdSpec {
  double capacity_bytes = 0.0;
  double read_bytes_per_s = 0.0;
  double write_bytes_per_s = 0.0;
  DevicePower power;  // one drive; active: reading or writing at full bandwidth
  int64_t devices = 1;
  double total_capacity_bytes() const { return capacity_bytes * static_cast<double>(devices); }
  double total_read_bytes_per_s() const { return read_bytes_per_s * static_cast<double>(devices); }
  double total_write_bytes_per_s() const { return write_bytes_per_s * static_cast<double>(devices); }
};

}  // namespace servesim

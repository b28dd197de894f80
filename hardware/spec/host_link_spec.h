#pragma once
// Contract: a GPU's link to its host (PCIe or NVLink-C2C): directions separate, because they are not symmetric
// in practice. Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled from
// hardware/catalog/*.json (each number with its source there) or inline config by sim/config; the models read
// these structs, never JSON.

#include <string>

namespace servesim {

struct HostLinkSpec {
  std::string name;
  double h2d_bytes_per_s = 0.0;
  double d2h_bytes_per_s = 0.0;
  double latency_s = 0.0;
};

}  // namespace servesim

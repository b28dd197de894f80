#pragma once
// Contract: the host CPU of a node: launch and per-iteration host cost, host memory, sockets and their power.
// Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled from hardware/catalog/*.json (each
// number with its source there) or inline config by sim/config; the models read these structs, never JSON.

#include <cstdint>
#include <string>

#include "hardware/spec/device_power.h"

namespace servesim {

struct HostCpuSpec {
  std::string name;
  double launch_s = 0.0;              // host cost of launching one kernel eagerly
  double iteration_overhead_s = 0.0;  // scheduler / sampling / bookkeeping per engine iteration (fixed part)
  double sequence_overhead_s = 0.0;   // the same host work's growth: seconds per sequence in the batch
  double memory_bytes = 0.0;          // host DRAM available for swapped / offloaded KV
  // Energy (0 = not given): sockets per node, cores per socket, one socket's idle power and TDP (active_w);
  // the node's DRAM at idle (background and refresh) and the energy of moving one bit in or out of it.
  int64_t sockets = 0;
  int64_t cores_per_socket = 0;
  DevicePower socket_power;
  double memory_idle_w = 0.0;
  double memory_access_j_per_byte = 0.0;
};

}  // namespace servesim

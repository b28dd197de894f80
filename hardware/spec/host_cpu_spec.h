#pragma once
// Contract: the host CPU of a node: launch and per-iteration host cost, sockets and their power, and the
// host memory behind them (hardware/memory/host_memory_spec.h).
// Plain numbers in SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled from hardware/catalog/*.json (each
// number with its source there) or inline config by sim/config; the models read these structs, never JSON.

#include <cstdint>
#include <string>

#include "hardware/memory/host_memory_spec.h"
#include "hardware/spec/device_power.h"

namespace servesim {

struct HostCpuSpec {
  std::string name;
  double launch_s = 0.0;              // host cost of launching one kernel eagerly
  double iteration_overhead_s = 0.0;  // scheduler / sampling / bookkeeping per engine iteration (fixed part)
  double sequence_overhead_s = 0.0;   // the same host work's growth: seconds per sequence in the batch
  // Energy (0 = not given): sockets per node, cores per socket, one socket's idle power and TDP (active_w).
  int64_t sockets = 0;
  int64_t cores_per_socket = 0;
  DevicePower socket_power;
  HostMemorySpec memory;  // the node's DRAM behind these sockets
};

}  // namespace servesim

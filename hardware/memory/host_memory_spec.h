#pragma once
// Contract: a node's host DRAM as a device: what swapped and offloaded KV may occupy, and its power.
// Plain numbers in SI units (bytes, watts, joules), filled from the CPU's catalog entry
// (hardware/catalog/cpu/*.json: memory, memory_idle_power, memory_access_pj_per_bit, each with its
// source there) or inline config by sim/config; the models read this struct, never JSON.

namespace servesim {

struct HostMemorySpec {
  double capacity_bytes = 0.0;     // host DRAM available for swapped / offloaded KV
  double idle_w = 0.0;             // background and refresh, the whole node's DRAM (0 = not given)
  double access_j_per_byte = 0.0;  // moving one byte in or out of it (0 = not given)
};

}  // namespace servesim

#pragma once
// Contract: what one node of the serving cluster is made of, as plain numbers
// in SI units (bytes, bytes/s, FLOP/s, seconds, watts). Filled from
// hardware/catalog/*.json (each number with its source there) or inline config;
// the models read these structs, never JSON. Host-link directions are separate
// because PCIe and NVLink-C2C are not symmetric in practice.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace servesim {

/// One GEMM efficiency curve (the formula of GpuEfficiency's gemm_* fields, which hold the bf16
/// one) for another compute dtype: FP8 (e4m3 inputs, bf16 output, W8A8). Rates in FLOP/s and
/// bytes/s, fixed terms in seconds. flops_per_s == 0: not measured.
struct GemmCurve {
  double latency_s = 0.0;
  double memory_latency_s = 0.0;
  double flops_per_s = 0.0;
  double bytes_per_s = 0.0;
  double half_tiles = 0.0;
  double memory_half_tiles = 0.0;
  double overlap = 0.0;
  bool fixed_term_is_gpu_time = false;
  // Measured: fitted to this GPU's own GEMMs in this dtype. Otherwise derived from the bf16 curve
  // and the datasheet's dense peak ratio (flagged "datasheet-derived" wherever it is reported).
  bool measured = false;
  std::string source;
  std::vector<std::pair<int64_t, int64_t>> measured_shapes;  // (N, K)
};

/// How close one GPU gets to its datasheet peaks, per kind of kernel; fitted
/// by `servesim calibrate` from microbenchmarks (models/execution/calibrations)
/// or, for GPUs without measurements, default fractions of the datasheet.
/// Rates are achieved rates (FLOP/s, bytes/s), latencies seconds per kernel.
struct GpuEfficiency {
  bool calibrated = false;  // false = datasheet peaks x default fractions
  std::string source;
  // GEMM y = x W^T: t = max(gemm_latency_s + FLOPs / (gemm_flops_per_s x occupancy),
  //                         gemm_memory_latency_s + bytes moved / gemm_bytes_per_s),
  // occupancy = tiles / (tiles + gemm_half_tiles) with tiles = ceil(M/tile_m) x ceil(N/tile_n):
  // few output tiles leave SMs idle and pay per-tile prologue/epilogue (small-M GEMMs).
  double gemm_latency_s = 0.0;         // compute-bound regime
  double gemm_memory_latency_s = 0.0;  // memory-bound regime
  double gemm_flops_per_s = 0.0;
  double gemm_bytes_per_s = 0.0;
  int64_t gemm_tile_m = 128;
  int64_t gemm_tile_n = 128;
  double gemm_half_tiles = 0.0;  // tiles at which the compute rate reaches half its peak
  // Memory regime: few output tiles (thread blocks) cannot keep enough loads in
  // flight to saturate HBM: bandwidth x tiles / (tiles + gemm_memory_half_tiles).
  double gemm_memory_half_tiles = 0.0;
  // Compute and memory traffic of mid-size GEMMs overlap imperfectly:
  // t = max(compute, memory) + gemm_overlap x min(compute work, memory work).
  double gemm_overlap = 0.0;
  std::vector<std::pair<int64_t, int64_t>> gemm_measured_shapes;  // (N, K) measured by the microbenchmarks
  // Causal prefill attention: t = latency + FLOPs of whole 128x128 tiles / rate.
  double attention_prefill_latency_s = 0.0;
  double attention_prefill_flops_per_s = 0.0;
  // Decode attention: t = latency + B x attention_decode_sequence_s
  //                      + KV bytes read / (rate x occupancy), occupancy = x / (x + half),
  // x = decode sequences of the batch x KV heads per GPU (the kernel's parallel work items: each
  // streams one sequence's KV of one head), half = attention_decode_half_heads. Query heads per KV
  // head do not enter: they share the streamed KV.
  double attention_decode_latency_s = 0.0;
  double attention_decode_bytes_per_s = 0.0;
  double attention_decode_sequence_s = 0.0;
  double attention_decode_half_heads = 0.0;
  // Elementwise kernels stream their bytes at the measured copy bandwidth.
  double elementwise_bytes_per_s = 0.0;
  // GPU time of one kernel replayed from a CUDA graph (the floor of any kernel).
  double graph_kernel_s = 0.0;
  // Whether each curve's fixed term is GPU time (fitted to CUDA-graph replayed
  // timings) or, as in single-call timings, mostly host dispatch that an
  // iteration of queued kernels does not pay.
  bool gemm_fixed_term_is_gpu_time = false;
  bool prefill_attention_fixed_term_is_gpu_time = false;
  bool decode_attention_fixed_term_is_gpu_time = false;
  // Host time of one eagerly launched op, measured on the host the GPU was in
  // (0 = use the node's HostCpuSpec::launch_s).
  double eager_launch_s = 0.0;
  // Power: idle + active_w while kernels run + compute_w x (FLOP/s / bf16 peak)
  //        + memory_w x (bytes/s / HBM peak), capped at limit_w.
  double power_active_w = 0.0;
  double power_compute_w = 0.0;
  double power_memory_w = 0.0;
  double power_limit_w = 0.0;
  double power_dvfs_exponent = 0.0;  // 0 = kDefaultDvfsExponent (models/energy/power_model.h)
  // FP8 GEMMs fitted to this GPU's FP8 microbenchmarks (servesim calibrate --fp8); not measured
  // (flops_per_s == 0): derived from the bf16 curve x the FP8 / bf16 dense peak ratio.
  GemmCurve gemm_fp8;
};

struct GpuSpec {
  std::string name;
  // Dense tensor-core peaks per compute dtype (datasheets quote 2x with structured sparsity).
  double bf16_flops_per_s = 0.0;
  double fp16_flops_per_s = 0.0;
  double fp8_flops_per_s = 0.0;   // dense; 0 = no FP8 tensor cores (A100)
  double fp4_flops_per_s = 0.0;   // dense; 0 = no FP4 tensor cores (Hopper, Ampere)
  double hbm_bytes = 0.0;
  double hbm_bytes_per_s = 0.0;
  double l2_bytes = 0.0;
  int64_t sms = 0;
  double clock_hz = 0.0;
  double tdp_w = 0.0;
  double idle_w = 0.0;
  /// Name of a calibration (fitted efficiency curves, power coefficients); empty = datasheet defaults.
  std::string calibration;
  /// The calibration's numbers (filled by the reader), or defaults from the datasheet.
  GpuEfficiency efficiency;
};

/// Power of a device for whole-platform energy (hardware/platform/platform_energy.h): idle, and at full
/// load (every port or lane busy both ways). Both 0 = not given (the device's energy is then not reported).
struct DevicePower {
  double idle_w = 0.0;
  double active_w = 0.0;
  bool given() const { return idle_w > 0.0 || active_w > 0.0; }
};

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
  // NCCL alpha-beta fit (models/comm); 0 = derive from bytes_per_s and latency_s.
  double allreduce_latency_s = 0.0;
  double allreduce_bus_bytes_per_s = 0.0;  // ring all-reduce moves 2(n-1)/n x size per GPU
  double send_recv_latency_s = 0.0;
  double send_recv_bytes_per_s = 0.0;
  // Send/recv between two nodes (one GPU on each, through their NICs): what a
  // pipeline stage boundary across nodes pays. 0 = not known (plans that span
  // nodes are then rejected).
  double inter_node_send_recv_latency_s = 0.0;
  double inter_node_send_recv_bytes_per_s = 0.0;
  // Ring all-reduce among nodes with one GPU on each (NCCL fit of such rows): the per-NIC ring
  // bus bandwidth collectives spanning nodes use. 0 = the inter-node send/recv numbers.
  double inter_node_allreduce_latency_s = 0.0;
  double inter_node_allreduce_bus_bytes_per_s = 0.0;
  // NICs per node the numbers above are per (a cluster's network sets it): 0 = one per GPU (rails,
  // as the NCCL fits' clusters). Fewer NICs than GPUs share each NIC among several GPUs' channels.
  int64_t inter_node_nics_per_node = 0;
  // Flow collectives (models/comm/impl/flow.h) fitted to NCCL: fixed cost of one algorithm
  // step, and payload / bytes on the wire. 0 = not fitted (flow falls back to its defaults).
  double flow_step_latency_s = 0.0;
  double flow_efficiency = 0.0;
};

/// CXL-attached memory expander reached through the host (optional; capacity 0 = none).
/// The bandwidth is per direction (CXL runs over PCIe lanes, full duplex).
struct CxlMemorySpec {
  double capacity_bytes = 0.0;
  double bytes_per_s = 0.0;
  double latency_s = 0.0;
  DevicePower power;  // active: at bytes_per_s each way
};

/// NVMe SSD attached to the host (optional; capacity 0 = none).
struct SsdSpec {
  double capacity_bytes = 0.0;
  double read_bytes_per_s = 0.0;
  double write_bytes_per_s = 0.0;
  DevicePower power;  // active: reading or writing at full bandwidth
};

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

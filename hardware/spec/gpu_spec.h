#pragma once
// Contract: what one GPU is: datasheet peaks per dtype, HBM, power, price, and how close it gets to its peaks
// per kind of kernel (fitted by `servesim calibrate`, or default fractions of the datasheet). Plain numbers in
// SI units (bytes, bytes/s, FLOP/s, seconds, watts), filled from hardware/catalog/*.json (each number with its
// source there) or inline config by sim/config; the models read these structs, never JSON.

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
  // FP8 / bf16 sustained GEMM rate measured on a GPU of the same tensor cores, for a GPU without an
  // FP8 fit of its own (0 = the dense peaks' ratio, flagged datasheet-derived).
  double fp8_gemm_rate_ratio = 0.0;
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

}  // namespace servesim

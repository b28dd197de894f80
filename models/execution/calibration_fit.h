#pragma once
// Contract: fits a GPU's efficiency curves (GpuEfficiency) to microbenchmarks
// in the format of ../shared/calibration (GEMM sweep, causal prefill and decode
// attention, HBM copy, launch costs), by least squares with Eigen. Only
// microbenchmarks enter the GPU curves, never whole-model iterations (the host
// cost of an eager launch may come from host-bound eager iterations, see
// fit_eager_launch: they time the host, not the GPU). Microbenchmark
// timings of one call include the host's dispatch of that call when the GPU
// work is shorter (a floor of ~20-60 us here); points within kFloorMultiple of
// the smallest time of their kind are treated as floor-bound and left out of
// the GPU-time fit (decode attention: every row, its dispatch a fitted term, with
// a leave-one-out outlier rule). Files from the newer tools/profile_gpu.py also carry each
// kernel's GPU-only time (`graph_ms`: back-to-back calls replayed from one CUDA
// graph); a curve whose rows all have it is fitted to that, on every point, with
// no dispatch floor. The power coefficients are fitted separately
// (fit_activity_power) because they need whole-iteration activity.

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/spec/node_spec.h"
#include "models/execution/engine_profile.h"

namespace servesim {

// `seconds` is the time the fit uses: the GPU-only (CUDA-graph) time when the
// file has it for every row of that kind (Microbench::*_gpu_only), else one
// call timed with CUDA events.
struct GemmSample {
  std::string name;
  double m = 0.0, n = 0.0, k = 0.0;
  double seconds = 0.0;
  double call_seconds = 0.0;  // one call timed with CUDA events (host dispatch included)
};

struct PrefillAttentionSample {
  int64_t batch = 0, seq = 0;
  int64_t heads = 32, head_dim = 128;
  double seconds = 0.0;
};

struct DecodeAttentionSample {
  int64_t batch = 0, context = 0;
  int64_t kv_heads = 8;  // KV heads the kernel streams (the shared files: 32 query and 8 KV heads x 128)
  double kv_bytes = 0.0;
  double seconds = 0.0;
};

struct Microbench {
  std::string gpu;
  int64_t sms = 0;
  std::vector<GemmSample> gemm;
  std::vector<PrefillAttentionSample> prefill_attention;
  std::vector<DecodeAttentionSample> decode_attention;  // the implementation the engine uses
  double hbm_copy_bytes_per_s = 0.0;                    // bytes read + written per second
  double square_gemm_flops_per_s = 0.0;                 // the 8192^3 product (0 = not measured)
  double eager_launch_s = 0.0;  // tiny-op loop (x.add_(1.0))
  double graph_kernel_s = 0.0;
  // The curves whose samples are GPU-only times (graph_ms on every row): no dispatch floor.
  bool gemm_gpu_only = false;
  bool prefill_attention_gpu_only = false;
  bool decode_attention_gpu_only = false;
  // The reference engine's own decoder layer run eagerly (0 = not measured):
  // host seconds per launched op, launched ops per layer, host seconds per layer.
  double eager_engine_op_s = 0.0;
  double eager_engine_ops_per_layer = 0.0;
  double eager_engine_layer_s = 0.0;
  // Host seconds per launch fitted to host-bound eager whole-model iterations
  // (fit_eager_launch; 0 = the file has none). Takes precedence over the above.
  double eager_iterations_op_s = 0.0;
  double power_limit_w = 0.0;
  double idle_w = 0.0;  // 0 = not measured
};

/// Points within this multiple of the smallest GEMM time (the host dispatch floor
/// of one timed call) are floor bound and left out of the GPU-time fits.
constexpr double kFloorMultiple = 2.5;

/// GEMM points further than this from the first fit are treated as bad measurements.
constexpr double kOutlierRelativeError = 0.3;

/// One fitted curve's quality on the points it was fitted to.
struct FitQuality {
  std::string curve;
  int points = 0;
  double rms_relative_error = 0.0;
  double max_relative_error = 0.0;
  std::vector<std::string> rows;  // "label measured predicted" per point, for --verbose
};

/// The smallest single-call GEMM time: what one timed call costs when the GPU has almost nothing to do.
double dispatch_floor(const Microbench& bench);

/// Host launches per transformer layer that an engine profile describes (what an
/// eager iteration pays per dense layer; MoE-only kernels left out), to compare with
/// eager_engine_ops_per_layer.
int64_t launches_per_layer(const EngineProfile& engine);

/// Relative difference above which the measured eager ops per layer and the engine
/// profile's launches per layer are reported as disagreeing.
constexpr double kOpCountTolerance = 0.10;

/// One whole-model iteration launched op by op from the host (eager), with the
/// same iteration's CUDA-graph replayed time and the launches the engine profile
/// describes for it.
struct EagerIterationSample {
  std::string label;
  double launches = 0.0;
  double eager_seconds = 0.0;
  double graph_seconds = 0.0;
};

/// An eager iteration at least this much slower than its graph replay is host bound:
/// its time is the host's launches, not GPU work.
constexpr double kHostBoundRatio = 1.2;

/// Host seconds per launch from the host-bound eager iterations (least squares on
/// relative error of launches x cost); 0 when no row is host bound.
double fit_eager_launch(const std::vector<EagerIterationSample>& samples, FitQuality* quality);

/// What one launch of the reference engine costs the host, per second of the tiny-op
/// loop (`eager_tiny_op_us`), on our H200 host: 12.84 us fitted to the host-bound
/// eager Llama-3-8B iterations of ../shared/calibration/h200_microbench_and_llama3_8b.json
/// over its 16.40 us tiny-op loop (checked by a test against that file). A tiny op
/// in a tight loop costs more than an op of a real layer. Files that have neither
/// host-bound eager iterations nor the engine's own layer (`eager_engine_op_us`)
/// scale their tiny-op loop by this.
constexpr double kEngineOpPerTinyOp = 0.783;

/// FP8 (e4m3, W8A8, bf16 output) GEMM microbenchmarks: the "gemm_fp8" table of a measurement file
/// (../shared/calibration/h200_fp8_gemm.json), same shapes as the bf16 sweep.
struct Fp8GemmBench {
  std::string gpu;
  std::vector<GemmSample> gemm;
  double square_gemm_flops_per_s = 0.0;  // the 8192^3 FP8 product (0 = not measured)
  bool gpu_only = false;                 // graph_ms on every row
};

/// Fits the bf16 GEMM curve family to FP8 samples (1 byte per weight and input element, bf16
/// output): compute latency, rate and occupancy half-point on the points above the file's own
/// dispatch floor; the memory regime (bandwidth, fixed term, half-point, overlap) is kept from `bf16`
/// (HBM streams weights at the same rate in any dtype, and every FP8 point within kFloorMultiple of
/// the floor is excluded). The sustained rate is the file's 8192^3 FP8 product.
GemmCurve fit_fp8_gemm(const Fp8GemmBench& bench, int64_t sms, const GpuEfficiency& bf16, const GpuSpec& datasheet,
                       FitQuality* quality);

/// Fits every curve; the power fields are left at zero.
GpuEfficiency fit_efficiency(const Microbench& bench, const GpuSpec& datasheet, std::vector<FitQuality>* quality);

}  // namespace servesim

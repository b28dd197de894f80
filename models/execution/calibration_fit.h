#pragma once
// Contract: fits a GPU's efficiency curves (GpuEfficiency) to microbenchmarks
// in the format of ../shared/calibration (GEMM sweep, causal prefill and decode
// attention, HBM copy, launch costs), by least squares with Eigen. Only
// microbenchmarks enter the fit, never whole-model iterations. Microbenchmark
// timings of one call include the host's dispatch of that call when the GPU
// work is shorter (a floor of ~20-60 us here); points within kFloorMultiple of
// the smallest time of their kind are treated as floor-bound and left out of
// the GPU-time fit. The power coefficients are fitted separately
// (fit_activity_power) because they need whole-iteration activity.

#include <cstdint>
#include <string>
#include <vector>

#include "hardware/hardware_spec.h"

namespace servesim {

struct GemmSample {
  std::string name;
  double m = 0.0, n = 0.0, k = 0.0;
  double seconds = 0.0;
};

struct PrefillAttentionSample {
  int64_t batch = 0, seq = 0;
  int64_t heads = 32, head_dim = 128;
  double seconds = 0.0;
};

struct DecodeAttentionSample {
  int64_t batch = 0, context = 0;
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
  double eager_launch_s = 0.0;
  double graph_kernel_s = 0.0;
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

/// The smallest GEMM time: what one timed call costs when the GPU has almost nothing to do.
double dispatch_floor(const Microbench& bench);

/// Fits every curve; the power fields are left at zero.
GpuEfficiency fit_efficiency(const Microbench& bench, const GpuSpec& datasheet, std::vector<FitQuality>* quality);

}  // namespace servesim

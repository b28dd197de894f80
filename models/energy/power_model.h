#pragma once
// Contract: electrical power of one GPU over an iteration from what it did:
// idle power, plus a constant while kernels run, plus terms proportional to the
// achieved compute rate and HBM bandwidth as fractions of the datasheet peaks;
// the total never exceeds the power limit. Host CPU, NIC and DRAM power are not
// modelled. Watts, joules, seconds. Pure.

#include <functional>
#include <memory>
#include <vector>

#include "hardware/hardware_spec.h"
#include "sim/params.h"

namespace servesim {

/// What one GPU did during one iteration.
struct GpuActivity {
  double seconds = 0.0;    // wall time of the iteration
  double busy_s = 0.0;     // time kernels were running (<= seconds)
  double flops = 0.0;      // FLOPs executed
  double hbm_bytes = 0.0;  // bytes moved to/from HBM
};

class PowerModel {
 public:
  static constexpr const char* kInterfaceName = "power-model";
  static constexpr const char* kInterfaceSummary = "GPU power and energy from its activity in an iteration";
  using Factory = std::function<std::unique_ptr<PowerModel>(const ParamValues&, const GpuSpec&)>;

  virtual ~PowerModel() = default;
  /// Mean watts of one GPU over the activity.
  virtual double watts(const GpuActivity& activity) const = 0;
  /// Joules of one GPU.
  double joules(const GpuActivity& activity) const { return watts(activity) * activity.seconds; }
};

struct ActivityPowerParams {
  double idle_w = 0.0;
  double active_w = 0.0;   // added while kernels run
  double compute_w = 0.0;  // x achieved FLOP/s / bf16 peak
  double memory_w = 0.0;   // x achieved bytes/s / HBM peak
  double limit_w = 0.0;
  double peak_flops_per_s = 0.0;
  double peak_bytes_per_s = 0.0;
};

class ActivityPowerModel : public PowerModel {
 public:
  explicit ActivityPowerModel(const ActivityPowerParams& params) : params_(params) {}
  double watts(const GpuActivity& activity) const override;
  const ActivityPowerParams& params() const { return params_; }

 private:
  ActivityPowerParams params_;
};

/// Parameters from the GPU's calibration (or defaults scaled to its TDP).
ActivityPowerParams activity_power_for(const GpuSpec& gpu);

/// Whether activity_power_for takes the power coefficients from a calibration (measured) rather than
/// the datasheet defaults scaled to the TDP: a calibration without a power fit has them all zero.
bool power_is_measured(const GpuEfficiency& efficiency);

/// One measured operating point: the activity (per second of wall time) and the mean watts.
struct PowerSample {
  double busy_fraction = 0.0;
  double compute_fraction = 0.0;  // FLOP/s / peak
  double memory_fraction = 0.0;   // bytes/s / peak
  double watts = 0.0;
};

/// Least-squares fit (Eigen) of watts - idle = active x busy + compute_w x compute + memory_w x memory.
/// Returns {active_w, compute_w, memory_w}; a negative coefficient is dropped and the rest refitted.
std::vector<double> fit_activity_power(const std::vector<PowerSample>& samples, double idle_w);

}  // namespace servesim

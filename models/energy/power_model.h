#pragma once
// Contract: electrical power of one GPU over an iteration from what it did:
// idle power, plus a constant while kernels run, plus terms proportional to the
// achieved compute rate and HBM bandwidth as fractions of the datasheet peaks.
// Power-limited clocks (DVFS): an iteration whose power at the boost clock
// exceeds the power limit runs at the SM clock fraction f < 1 at which it draws
// exactly the limit. At f the clocked part of the busy time (compute-bound
// kernels, kernel fixed costs) takes 1/f as long, the unclocked part (HBM
// streaming, collectives, host) is unchanged, and the energy of each FLOP scales
// as f^(exponent - 1) (dynamic power f V^2 with V ~ f^((exponent - 1) / 2):
// exponent 3 for V proportional to f); idle, active and HBM power do not scale.
// Not modelled: the lowest clock state (f is not floored), voltage floors, clock
// ramps within an iteration, temperature, and HBM clock changes. The watts
// reported never exceed the limit. Host CPU, NIC and DRAM power are not
// modelled. Watts, joules, seconds. Pure.

#include <functional>
#include <memory>
#include <vector>

#include "hardware/spec/node_spec.h"
#include "sim/core/params.h"

namespace servesim {

/// What one GPU did during one iteration.
struct GpuActivity {
  double seconds = 0.0;    // wall time of the iteration
  double busy_s = 0.0;     // time kernels were running (<= seconds)
  double flops = 0.0;      // FLOPs executed, bf16-equivalent (an FP8 FLOP counts bf16 peak / FP8 peak)
  double hbm_bytes = 0.0;  // bytes moved to/from HBM
  double clocked_s = 0.0;  // of busy_s, the time that scales as 1 / clock_fraction (compute-bound kernels)
  double clock_fraction = 1.0;  // SM clock / boost clock the times above were taken at
  double flop_energy_scale = 1.0;  // energy of a FLOP at that clock / at boost, f^(exponent - 1) (at_power_limit sets it)
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
  /// The activity as it runs under the power limit: `boost` (taken at clock fraction 1) when its
  /// power is within the limit, else at the clock that draws the limit. Models without clock
  /// scaling return `boost`.
  virtual GpuActivity at_power_limit(const GpuActivity& boost) const { return boost; }
};

struct ActivityPowerParams {
  double idle_w = 0.0;
  double active_w = 0.0;   // added while kernels run
  double compute_w = 0.0;  // x achieved FLOP/s / bf16 peak
  double memory_w = 0.0;   // x achieved bytes/s / HBM peak
  double limit_w = 0.0;
  double dvfs_exponent = 0.0;  // compute power ~ f^exponent at fixed work rate per clock; 0 = no clock scaling
  double peak_flops_per_s = 0.0;
  double peak_bytes_per_s = 0.0;
};

class ActivityPowerModel : public PowerModel {
 public:
  explicit ActivityPowerModel(const ActivityPowerParams& params) : params_(params) {}
  double watts(const GpuActivity& activity) const override;
  GpuActivity at_power_limit(const GpuActivity& boost) const override;
  const ActivityPowerParams& params() const { return params_; }

 private:
  ActivityPowerParams params_;
};

/// Clock fraction at which an iteration of `clocked_s` compute-bound seconds (energy `compute_j` per
/// FLOP-term at boost) and `unclocked_s` other seconds (of which `unclocked_busy_s` busy; HBM energy
/// `memory_j`) draws `limit_w`: the root in (0, 1] of
/// compute_j f^e + (memory_j + active_w unclocked_busy_s - (limit - idle) unclocked_s) f - (limit - idle - active_w) clocked_s.
/// Returns 1 when the boost power is within the limit or nothing is clocked.
double power_limited_clock(const ActivityPowerParams& params, double clocked_s, double unclocked_s,
                           double unclocked_busy_s, double compute_j, double memory_j);

/// Default DVFS exponent: dynamic power f V^2 with V proportional to f over the DVFS range.
constexpr double kDefaultDvfsExponent = 1.5;

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
  double clock_fraction = 1.0;    // SM clock the row ran at (power-limited rows: below 1)
};

/// Least-squares fit (Eigen) of watts - idle = active x busy + compute_w x compute x f^(exponent - 1)
/// + memory_w x memory (f = the row's clock fraction; exponent 0 = no clock scaling).
/// Returns {active_w, compute_w, memory_w}; a negative coefficient is dropped and the rest refitted.
std::vector<double> fit_activity_power(const std::vector<PowerSample>& samples, double idle_w,
                                       double dvfs_exponent = 0.0);

}  // namespace servesim

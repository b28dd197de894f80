#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include "models/energy/power_model.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

// Defaults for GPUs without an energy calibration: the coefficients of our
// h200-sxm calibration (fitted on its llama3_8b_energy table), scaled by TDP / 700 W.
constexpr double kReferenceTdpW = 700.0;
constexpr double kDefaultActiveW = 0.0;
constexpr double kDefaultComputeW = 1102.8;
constexpr double kDefaultMemoryW = 508.9;

// f^p for p >= 0: products and one square root when 2p is an integer (the fitted exponents are on a
// grid of halves), else std::pow. The clock solve calls it once per step on the hot path.
double power_of(double f, double p) {
  const double twice = 2.0 * p;
  if (twice == std::floor(twice) && twice <= 16.0) {
    double out = (static_cast<int>(twice) & 1) != 0 ? std::sqrt(f) : 1.0;
    for (int i = 0; i < static_cast<int>(twice) / 2; ++i) out *= f;
    return out;
  }
  return std::pow(f, p);
}

}  // namespace

double ActivityPowerModel::watts(const GpuActivity& activity) const {
  if (activity.seconds <= 0.0) return params_.idle_w;
  const double busy = std::clamp(activity.busy_s / activity.seconds, 0.0, 1.0);
  // Energy per FLOP ~ V^2 ~ f^(exponent - 1) (at_power_limit sets the scale with the clock).
  const double compute = activity.flop_energy_scale * activity.flops / activity.seconds / params_.peak_flops_per_s;
  const double memory = activity.hbm_bytes / activity.seconds / params_.peak_bytes_per_s;
  const double w = params_.idle_w + params_.active_w * busy + params_.compute_w * compute + params_.memory_w * memory;
  return params_.limit_w > 0.0 ? std::min(w, params_.limit_w) : w;
}

bool power_is_measured(const GpuEfficiency& eff) {
  return eff.power_active_w > 0.0 || eff.power_compute_w > 0.0 || eff.power_memory_w > 0.0;
}

double power_limited_clock(const ActivityPowerParams& p, double clocked_s, double unclocked_s,
                           double unclocked_busy_s, double compute_j, double memory_j) {
  if (p.dvfs_exponent <= 0.0 || p.limit_w <= 0.0 || clocked_s <= 0.0) return 1.0;
  const double headroom = p.limit_w - p.idle_w;  // K
  const double e = p.dvfs_exponent;
  // h(f) = P(f) T(f) f - limit T(f) f, from P(f) T(f) = idle T(f) + active busy(f) + compute_j f^(e-1) + memory_j
  // with T(f) = clocked / f + unclocked, busy(f) = clocked / f + unclocked_busy.
  const double linear = memory_j + p.active_w * unclocked_busy_s - headroom * unclocked_s;
  const double constant = (headroom - p.active_w) * clocked_s;
  if (compute_j + linear - constant <= 0.0) return 1.0;  // h(1) <= 0: within the limit at boost
  if (constant <= 0.0) return 1.0;  // idle + active alone exceed the limit: no clock reaches it
  // h(f) = compute_j f^e + linear f - constant is convex (e >= 1) with h(0) < 0 < h(1), so the root
  // in (0, 1) is unique. Halley steps from f = 1 (cubic convergence; one pow per step, none for the
  // first, where f^(e-1) = 1); a step under 1e-4 f leaves an error of order 1e-12.
  double f = 1.0;
  for (int i = 0; i < 60; ++i) {
    const double q = e == 1.0 || i == 0 ? 1.0 : power_of(f, e - 1.0);  // f^(e-1)
    const double h = compute_j * q * f + linear * f - constant;
    const double slope = e * compute_j * q + linear;
    const double curvature = e * (e - 1.0) * compute_j * q / f;
    const double step = 2.0 * h * slope / (2.0 * slope * slope - h * curvature);
    const double next = f - step;
    if (!(next > 0.0)) {  // not reached for e >= 1 near the root; halve towards the bracket's end
      f *= 0.5;
      continue;
    }
    if (std::fabs(step) <= 1e-4 * next) return next;
    f = next;
  }
  return f;
}

GpuActivity ActivityPowerModel::at_power_limit(const GpuActivity& boost) const {
  if (params_.dvfs_exponent <= 0.0 || params_.limit_w <= 0.0 || boost.clocked_s <= 0.0 || boost.seconds <= 0.0) {
    return boost;
  }
  const double uncapped = params_.idle_w + params_.active_w * std::clamp(boost.busy_s / boost.seconds, 0.0, 1.0) +
                          (params_.compute_w * boost.flops / params_.peak_flops_per_s +
                           params_.memory_w * boost.hbm_bytes / params_.peak_bytes_per_s) /
                              boost.seconds;
  if (uncapped <= params_.limit_w) return boost;
  const double f = power_limited_clock(params_, boost.clocked_s, boost.seconds - boost.clocked_s,
                                       boost.busy_s - boost.clocked_s,
                                       params_.compute_w * boost.flops / params_.peak_flops_per_s,
                                       params_.memory_w * boost.hbm_bytes / params_.peak_bytes_per_s);
  GpuActivity out = boost;
  const double extra = boost.clocked_s * (1.0 / f - 1.0);
  out.seconds += extra;
  out.busy_s += extra;
  out.clocked_s += extra;
  out.clock_fraction = f;
  // f^(e-1) without a pow: at the root the compute energy is what the limit leaves over idle, active and HBM.
  const double compute_j = params_.compute_w * boost.flops / params_.peak_flops_per_s;
  if (f < 1.0 && compute_j > 0.0) {
    const double left_j = (params_.limit_w - params_.idle_w) * out.seconds - params_.active_w * out.busy_s -
                          params_.memory_w * boost.hbm_bytes / params_.peak_bytes_per_s;
    out.flop_energy_scale = std::clamp(left_j / compute_j, 0.0, 1.0);
  }
  return out;
}

ActivityPowerParams activity_power_for(const GpuSpec& gpu) {
  ActivityPowerParams params;
  params.idle_w = gpu.idle_w;
  params.peak_flops_per_s = gpu.bf16_flops_per_s;
  params.peak_bytes_per_s = gpu.hbm_bytes_per_s;
  const GpuEfficiency& eff = gpu.efficiency;
  params.limit_w = eff.power_limit_w > 0.0 ? eff.power_limit_w : gpu.tdp_w;
  params.dvfs_exponent = eff.power_dvfs_exponent > 0.0 ? eff.power_dvfs_exponent : kDefaultDvfsExponent;
  if (power_is_measured(eff)) {
    params.active_w = eff.power_active_w;
    params.compute_w = eff.power_compute_w;
    params.memory_w = eff.power_memory_w;
  } else {
    const double scale = gpu.tdp_w / kReferenceTdpW;
    params.active_w = kDefaultActiveW * scale;
    params.compute_w = kDefaultComputeW * scale;
    params.memory_w = kDefaultMemoryW * scale;
  }
  return params;
}

std::vector<double> fit_activity_power(const std::vector<PowerSample>& samples, double idle_w, double dvfs_exponent) {
  std::vector<bool> keep(3, true);
  std::vector<double> out(3, 0.0);
  for (int round = 0; round < 3; ++round) {
    std::vector<int> cols;
    for (int c = 0; c < 3; ++c) {
      if (keep[c]) cols.push_back(c);
    }
    Eigen::MatrixXd a(static_cast<Eigen::Index>(samples.size()), static_cast<Eigen::Index>(cols.size()));
    Eigen::VectorXd b(static_cast<Eigen::Index>(samples.size()));
    for (std::size_t i = 0; i < samples.size(); ++i) {
      const auto row = static_cast<Eigen::Index>(i);
      const double per_flop = dvfs_exponent > 0.0 ? std::pow(samples[i].clock_fraction, dvfs_exponent - 1.0) : 1.0;
      const double features[3] = {samples[i].busy_fraction, samples[i].compute_fraction * per_flop,
                                  samples[i].memory_fraction};
      for (std::size_t j = 0; j < cols.size(); ++j) a(row, static_cast<Eigen::Index>(j)) = features[cols[j]];
      b(row) = samples[i].watts - idle_w;
    }
    const Eigen::VectorXd x = a.colPivHouseholderQr().solve(b);
    bool negative = false;
    std::fill(out.begin(), out.end(), 0.0);
    for (std::size_t j = 0; j < cols.size(); ++j) {
      out[cols[j]] = x(static_cast<Eigen::Index>(j));
      if (out[cols[j]] < 0.0) {
        keep[cols[j]] = false;
        negative = true;
      }
    }
    if (!negative) break;
  }
  for (double& v : out) v = std::max(v, 0.0);
  return out;
}

SERVESIM_REGISTER(PowerModel, "activity",
                  "idle + active while busy + terms in achieved FLOP/s and HBM bytes/s, capped at the power limit",
                  (ParamSpecs{ParamSpec::quantity("idle", Dimension::kWatts, "0 W",
                                                  "idle power; 0 = the GPU catalog's", true)}),
                  [](const ParamValues& values, const GpuSpec& gpu) {
                    ActivityPowerParams params = activity_power_for(gpu);
                    if (values.number("idle") > 0.0) params.idle_w = values.number("idle");
                    return std::make_unique<ActivityPowerModel>(params);
                  });

}  // namespace servesim

#include <algorithm>

#include <Eigen/Dense>

#include "models/energy/power_model.h"
#include "sim/registry.h"

namespace servesim {
namespace {

// Defaults for GPUs without an energy calibration: the coefficients of our
// h200-sxm calibration (fitted on its llama3_8b_energy table), scaled by TDP / 700 W.
constexpr double kReferenceTdpW = 700.0;
constexpr double kDefaultActiveW = 0.0;
constexpr double kDefaultComputeW = 984.7;
constexpr double kDefaultMemoryW = 527.6;

}  // namespace

double ActivityPowerModel::watts(const GpuActivity& activity) const {
  if (activity.seconds <= 0.0) return params_.idle_w;
  const double busy = std::clamp(activity.busy_s / activity.seconds, 0.0, 1.0);
  const double compute = activity.flops / activity.seconds / params_.peak_flops_per_s;
  const double memory = activity.hbm_bytes / activity.seconds / params_.peak_bytes_per_s;
  const double w = params_.idle_w + params_.active_w * busy + params_.compute_w * compute + params_.memory_w * memory;
  return params_.limit_w > 0.0 ? std::min(w, params_.limit_w) : w;
}

bool power_is_measured(const GpuEfficiency& eff) {
  return eff.power_active_w > 0.0 || eff.power_compute_w > 0.0 || eff.power_memory_w > 0.0;
}

ActivityPowerParams activity_power_for(const GpuSpec& gpu) {
  ActivityPowerParams params;
  params.idle_w = gpu.idle_w;
  params.peak_flops_per_s = gpu.bf16_flops_per_s;
  params.peak_bytes_per_s = gpu.hbm_bytes_per_s;
  const GpuEfficiency& eff = gpu.efficiency;
  params.limit_w = eff.power_limit_w > 0.0 ? eff.power_limit_w : gpu.tdp_w;
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

std::vector<double> fit_activity_power(const std::vector<PowerSample>& samples, double idle_w) {
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
      const double features[3] = {samples[i].busy_fraction, samples[i].compute_fraction, samples[i].memory_fraction};
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

#include "sim/sweep/capacity_search.h"

#include <cmath>
#include <limits>

namespace servesim {
namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
}  // namespace

CapacitySearch::CapacitySearch(double precision, int64_t max_sims, double min_value, double max_value)
    : precision_(precision), max_sims_(max_sims), min_value_(min_value), max_value_(max_value), holds_(kNan),
      fails_(kNan) {}

void CapacitySearch::record(double value, bool holds) {
  ++sims_;
  if (holds && !(value <= holds_)) holds_ = value;  // NaN compares false: the first one is taken
  if (!holds && !(value >= fails_)) fails_ = value;
}

std::optional<double> CapacitySearch::next() const {
  if (sims_ >= max_sims_) return std::nullopt;
  const bool has_holds = !std::isnan(holds_), has_fails = !std::isnan(fails_);
  if (has_holds && has_fails) {
    if (fails_ / holds_ - 1.0 <= precision_) return std::nullopt;
    return std::sqrt(holds_ * fails_);
  }
  if (has_holds) {
    if (holds_ >= max_value_) return std::nullopt;
    return std::fmin(holds_ * 2.0, max_value_);
  }
  if (has_fails) {
    if (fails_ <= min_value_) return std::nullopt;
    return std::fmax(fails_ / 2.0, min_value_);
  }
  return std::nullopt;  // nothing recorded: the caller simulates the plan's own value first
}

double CapacitySearch::precision_reached() const {
  if (std::isnan(holds_) || std::isnan(fails_)) return kNan;
  return fails_ / holds_ - 1.0;
}

std::string CapacitySearch::stopped() const {
  if (next()) return "searching";
  const bool has_holds = !std::isnan(holds_), has_fails = !std::isnan(fails_);
  if (has_holds && has_fails && fails_ / holds_ - 1.0 <= precision_) return "precision reached";
  if (sims_ >= max_sims_) return "simulation budget spent";
  if (has_holds) return "the constraints hold up to the highest rate allowed";
  return "the constraints fail down to the lowest rate allowed";
}

}  // namespace servesim

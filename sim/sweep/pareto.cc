#include "sim/sweep/pareto.h"

#include <cassert>
#include <cmath>

namespace servesim {
namespace {

bool has_nan(const std::vector<double>& point) {
  for (double value : point) {
    if (std::isnan(value)) return true;
  }
  return false;
}

bool dominates(const std::vector<double>& a, const std::vector<double>& b, const std::vector<bool>& maximize) {
  bool strictly_better = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    const double gain = maximize[k] ? a[k] - b[k] : b[k] - a[k];
    if (gain < 0.0) return false;
    if (gain > 0.0) strictly_better = true;
  }
  return strictly_better;
}

}  // namespace

std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& points,
                                      const std::vector<bool>& maximize) {
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < points.size(); ++i) {
    assert(points[i].size() == maximize.size());
    if (has_nan(points[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < points.size() && !dominated; ++j) {
      dominated = j != i && !has_nan(points[j]) && dominates(points[j], points[i], maximize);
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

}  // namespace servesim

#pragma once
// Contract: the Pareto front of a set of points under per-coordinate goals.
// Point a dominates point b when a is at least as good as b on every objective
// and strictly better on one (higher is better for maximized objectives, lower
// for minimized ones). The front is every point no other point dominates;
// equal points do not dominate each other, so duplicates stay together on the
// front. Pure function: no order dependence beyond returning indices ascending.

#include <cstddef>
#include <vector>

namespace servesim {

/// Indices (ascending) of the non-dominated points. points[i][k] is point i's value on
/// objective k; maximize[k] says whether objective k is maximized. Points with a NaN are never
/// on the front and dominate nothing.
std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& points,
                                      const std::vector<bool>& maximize);

}  // namespace servesim

#pragma once
// Contract: the search for the highest value of a plan's rate setting (a
// generator's rate, a trace's rate_scale) at which its constraints hold, as a
// pure state machine: record() is told whether they held at a value (the
// plan's own value first), next() proposes the value to simulate next, until
// it returns nothing. From the plan's own value it doubles (while they hold)
// or halves (while they fail) until it has a bracket [holds, fails], then
// bisects the bracket geometrically (sqrt(holds x fails)) until fails / holds
// - 1 <= precision or max_sims values were simulated. It assumes the
// constraints fail at every rate above one where they fail (latency and SLO
// misses grow with load); a non-monotone plan gets one of its crossings. Values
// stay within [min_value, max_value]. No I/O, no simulation: deterministic.

#include <cstdint>
#include <optional>
#include <string>

namespace servesim {

class CapacitySearch {
 public:
  CapacitySearch(double precision, int64_t max_sims, double min_value, double max_value);

  /// Records whether the constraints held at `value`.
  void record(double value, bool holds);
  /// The value to simulate next, or nullopt when the search is over.
  std::optional<double> next() const;

  /// The highest value at which the constraints held; NaN if they held nowhere.
  double best() const { return holds_; }
  /// The lowest value at which they failed; NaN if they held everywhere tried.
  double lowest_failing() const { return fails_; }
  /// fails / holds - 1 (the true maximum lies in [best, best x (1 + precision)]); NaN without a bracket.
  double precision_reached() const;
  /// Values simulated so far.
  int64_t sims() const { return sims_; }
  /// Why the search stopped (or "searching"), for capacity results.
  std::string stopped() const;

 private:
  double precision_;
  int64_t max_sims_;
  double min_value_, max_value_;
  double holds_;  // highest value that held (NaN: none yet)
  double fails_;  // lowest value that failed (NaN: none yet)
  int64_t sims_ = 0;
};

}  // namespace servesim

// Claims about the Pareto front on hand-built points, where the
// non-dominated set can be read off by eye.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sim/sweep/pareto.h"

namespace servesim {
namespace {

using Points = std::vector<std::vector<double>>;
using Indices = std::vector<std::size_t>;

TEST(ParetoFront, KeepsExactlyTheNonDominatedPointsOfTwoObjectives) {
  // Maximize throughput, minimize latency. (1000, 2) beats (900, 3) on both;
  // (1200, 5) and (800, 1) trade off against (1000, 2); (1100, 6) loses to (1200, 5).
  const Points points = {{1000, 2}, {900, 3}, {1200, 5}, {800, 1}, {1100, 6}};
  EXPECT_EQ(pareto_front(points, {true, false}), (Indices{0, 2, 3}));
}

TEST(ParetoFront, FlippingAGoalChangesTheFront) {
  // Same points, both minimized: only (800, 1) is best on both.
  const Points points = {{1000, 2}, {900, 3}, {1200, 5}, {800, 1}, {1100, 6}};
  EXPECT_EQ(pareto_front(points, {false, false}), (Indices{3}));
}

TEST(ParetoFront, ThreeObjectivesMatchTheDefaultSweepGoals) {
  // Max tokens/s per GPU, min TTFT p99, min TPOT p99. Point 1 is dominated by
  // point 0 (worse on all three); point 3 equals point 0 on two objectives and
  // is worse on one, so it is dominated; points 0, 2, 4 each win somewhere.
  const Points points = {{1500, 0.10, 0.012}, {1400, 0.20, 0.013}, {900, 0.05, 0.010},
                         {1500, 0.10, 0.020}, {2000, 3.00, 0.015}};
  EXPECT_EQ(pareto_front(points, {true, false, false}), (Indices{0, 2, 4}));
}

TEST(ParetoFront, EqualPointsDoNotDominateEachOther) {
  const Points points = {{1, 1}, {1, 1}, {0, 0}};
  EXPECT_EQ(pareto_front(points, {true, true}), (Indices{0, 1}));
}

TEST(ParetoFront, PointsWithAMissingValueAreNeverOnTheFrontAndDominateNothing) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Points points = {{nan, 100}, {1, 1}, {2, nan}};
  EXPECT_EQ(pareto_front(points, {true, true}), (Indices{1}));
}

TEST(ParetoFront, NoPointsGiveAnEmptyFront) { EXPECT_TRUE(pareto_front({}, {true}).empty()); }

}  // namespace
}  // namespace servesim

// KV utilisation samples follow the scheduling steps, not the simulated time: an idle gap of
// any length costs two rows, so memory and kv_utilization.csv stay bounded by the work done.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "models/cache/kv_cache.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"

namespace servesim {
namespace {

using testing::AffineModel;
using testing::request;
using testing::VectorSource;

ServingResult run_two_requests(double gap_s, double interval_s) {
  AffineModel model;
  const auto* s = Registry<Scheduler>::instance().find("vllm");
  auto scheduler = s->factory(default_params(s->info.params));
  const auto* c = Registry<KvCache>::instance().find("paged");
  auto cache = c->factory(default_params(c->info.params), 1 << 16);
  VectorSource source({request(0.0, 100, 3), request(gap_s, 100, 3)});
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = 131072.0;
  inputs.kv_sample_interval_s = interval_s;
  return run_serving(inputs, model, *scheduler, *cache, source);
}

int64_t rows(const std::string& csv) { return std::count(csv.begin(), csv.end(), '\n') - 1; }

// Input: two requests 1e7 s apart, 1 s samples. Expect: a handful of rows (the gap is two), the
// last at the end of the run's grid.
TEST(KvSampling, AnIdleGapOfAnyLengthCostsTwoRows) {
  const ServingResult far = run_two_requests(1e7, 1.0);
  EXPECT_LE(rows(far.kv_csv), 8) << far.kv_csv;
  const ServingResult near = run_two_requests(1e3, 1.0);
  EXPECT_EQ(rows(far.kv_csv), rows(near.kv_csv));
}

// Input: a 1 ns interval, far shorter than an iteration (10 ms). Expect: at most two rows per step.
TEST(KvSampling, AnIntervalShorterThanAnIterationCostsAtMostTwoRowsPerStep) {
  const ServingResult run = run_two_requests(1.0, 1e-9);
  EXPECT_LE(rows(run.kv_csv), 2 * (run.iterations + 4)) << rows(run.kv_csv);
}

}  // namespace
}  // namespace servesim

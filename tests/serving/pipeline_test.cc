// Claims about pipeline-parallel replicas with closed-form oracles. The
// execution model is a fake: every stage of a batch takes kFixed + kPerToken x
// (tokens computed) and each send between stages kSend, so a batch crosses
// P stages in P x stage + (P - 1) x kSend when nothing is in its way.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/execution/execution_model.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"
#include "sim/serving/pipeline_stages.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"

namespace servesim {
namespace {

using testing::AffineModel;
using testing::kFixed;
using testing::kPerToken;
using testing::request;
using testing::VectorSource;

constexpr double kSend = 0.002;  // s per send between stages

/// Each of `stages` stages costs what AffineModel charges a whole iteration.
class StagedAffineModel : public ExecutionModel {
 public:
  explicit StagedAffineModel(int64_t stages) : stages_(stages) {}
  IterationPrediction predict(const BatchShape& batch) const override {
    IterationPrediction p;
    p.stage_s = AffineModel::seconds(batch);
    p.iteration_s = static_cast<double>(stages_) * p.stage_s + static_cast<double>(stages_ - 1) * kSend;
    return p;
  }
  IterationTiming timing(const BatchShape& batch) override { return {predict(batch).iteration_s, 1.0}; }
  IterationTiming stage_timing(const BatchShape& batch, StageTimes& stages) override {
    stages.stage_s.assign(static_cast<std::size_t>(stages_), AffineModel::seconds(batch));
    stages.send_s.assign(static_cast<std::size_t>(stages_ - 1), kSend);
    return timing(batch);
  }

 private:
  int64_t stages_;
};

std::unique_ptr<Scheduler> vllm_scheduler() {
  const auto* entry = Registry<Scheduler>::instance().find("vllm");
  return entry->factory(default_params(entry->info.params));
}

std::unique_ptr<KvCache> big_cache() {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  return entry->factory(default_params(entry->info.params), 1 << 20);
}

// requests.csv as rows keyed by the header's names.
struct Rows {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  double at(int64_t id, const std::string& name) const {
    std::size_t column = 0;
    while (column < header.size() && header[column] != name) ++column;
    for (const auto& row : rows) {
      if (std::stoll(row[0]) == id) return std::stod(row.at(column));
    }
    ADD_FAILURE() << "no request " << id;
    return 0.0;
  }
};

Rows parse(const std::string& csv) {
  Rows out;
  std::istringstream lines(csv);
  std::string line;
  bool first = true;
  while (std::getline(lines, line)) {
    std::vector<std::string> fields;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) fields.push_back(cell);
    if (first) {
      out.header = fields;
      first = false;
    } else {
      out.rows.push_back(fields);
    }
  }
  return out;
}

struct PipelineRun {
  ServingResult result;
  Rows rows;
};

PipelineRun run_pipeline(std::vector<RequestSpec> requests, int64_t stages, int64_t micro_batches) {
  StagedAffineModel model(stages);
  auto scheduler = vllm_scheduler();
  auto cache = big_cache();
  VectorSource source(std::move(requests));
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = 131072.0;
  inputs.gpus = stages;
  ReplicaParts part{&model, scheduler.get(), cache.get()};
  part.pipeline_stages = stages;
  part.micro_batches = micro_batches;
  PipelineRun run;
  run.result = run_serving(inputs, {part}, nullptr, source);
  run.rows = parse(run.result.requests_csv);
  return run;
}

// System: 4 stages, 3 sends. Input: one request, 100-token prompt, 5 outputs.
// Expect: TTFT = 4 stage prefills + 3 sends; each later token 4 stage decodes + 3 sends.
TEST(Pipeline, OneRequestPassesEveryStageForEveryToken) {
  const PipelineRun run = run_pipeline({request(0.0, 100, 5)}, 4, 4);
  const double p = kFixed + 100 * kPerToken, q = kFixed + kPerToken;
  const double ttft = 4 * p + 3 * kSend;
  EXPECT_NEAR(run.rows.at(0, "ttft_s"), ttft, 1e-12);
  EXPECT_NEAR(run.rows.at(0, "e2e_s"), ttft + 4 * (4 * q + 3 * kSend), 1e-12);
  EXPECT_EQ(run.result.iterations, 5);
}

// Input: four identical requests (16-token prompt, n = 5 outputs) at t = 0, 4 stages, 4 micro-batches.
// Each joins its own lane. Pipeline fill: lane i's prefill (p per stage) enters stage 0 at i p, so
// its first token comes at (4 + i) p + 3 kSend. Steady state: a lane's decode round trip is
// R = 4 q + 3 kSend, and the 16-token prompt makes p = R / 4, so the lanes stay R / 4 >= q apart and
// no decode waits for a stage: E2E_i = (4 + i) p + 3 kSend + (n - 1) R.
TEST(Pipeline, FourRequestsOnFourMicroBatchesFillThePipelineThenRunInStep) {
  std::vector<RequestSpec> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(request(0.0, 16, 5));
  const PipelineRun run = run_pipeline(requests, 4, 4);
  const double p = kFixed + 16 * kPerToken, q = kFixed + kPerToken, round_trip = 4 * q + 3 * kSend;
  ASSERT_NEAR(p, round_trip / 4, 1e-15);
  for (int i = 0; i < 4; ++i) {
    const double ttft = (4 + i) * p + 3 * kSend;
    EXPECT_NEAR(run.rows.at(i, "ttft_s"), ttft, 1e-12) << i;
    EXPECT_NEAR(run.rows.at(i, "e2e_s"), ttft + 4 * round_trip, 1e-12) << i;
  }
  EXPECT_EQ(run.result.iterations, 20);
}

// Input: the same four requests with one micro-batch. Expect: one batch of four through the
// pipeline at a time, as without pipelining: TTFT = 4 p4 + 3 kSend with p4 the 400-token stage.
TEST(Pipeline, OneMicroBatchRunsOneBatchAtATime) {
  std::vector<RequestSpec> requests;
  for (int i = 0; i < 4; ++i) requests.push_back(request(0.0, 100, 5));
  const PipelineRun run = run_pipeline(requests, 4, 1);
  const double p4 = kFixed + 400 * kPerToken, q4 = kFixed + 4 * kPerToken;
  for (int i = 0; i < 4; ++i) {
    EXPECT_NEAR(run.rows.at(i, "ttft_s"), 4 * p4 + 3 * kSend, 1e-12) << i;
    EXPECT_NEAR(run.rows.at(i, "e2e_s"), 4 * p4 + 3 * kSend + 4 * (4 * q4 + 3 * kSend), 1e-12) << i;
  }
  EXPECT_EQ(run.result.iterations, 5);
}

// Input: 64 requests (1-token prompt, 200 outputs) at t = 0 on 4 stages with 8 micro-batches: 8
// per lane, so every lane batch takes d = kFixed + 8 kPerToken per stage. A lane's round trip
// (4 d + 3 kSend) is shorter than the 8 d stage 0 owes all lanes, so stage 0 never idles after the
// start: the run lasts 8 x 200 x d (stage 0's work) plus the drain of the last batch (3 d + 3 kSend).
TEST(Pipeline, EnoughIndependentWorkKeepsEveryStageBusy) {
  std::vector<RequestSpec> requests;
  for (int i = 0; i < 64; ++i) requests.push_back(request(0.0, 1, 200));
  const PipelineRun run = run_pipeline(requests, 4, 8);
  const double d = kFixed + 8 * kPerToken;
  EXPECT_NEAR(run.result.simulated_s, 8 * 200 * d + 3 * d + 3 * kSend, 1e-9);
}

// PipelineStages alone: batches of stage times d submitted together leave d apart after the fill.
TEST(PipelineStages, BatchesSubmittedTogetherLeaveOneStageTimeApart) {
  PipelineStages pipeline(3);
  StageTimes times{0.0, {1.0, 1.0, 1.0}, {0.5, 0.5}};
  std::vector<double> starts;
  EXPECT_DOUBLE_EQ(pipeline.submit(0.0, times, starts), 4.0);
  EXPECT_EQ(starts, (std::vector<double>{0.0, 1.5, 3.0}));
  EXPECT_DOUBLE_EQ(pipeline.submit(0.0, times, starts), 5.0);
  EXPECT_EQ(starts, (std::vector<double>{1.0, 2.5, 4.0}));
  EXPECT_DOUBLE_EQ(pipeline.busy_s(2), 2.0);
}

// The slowest stage sets the pace: with stage 1 twice as slow, the second batch waits there (a
// bubble on stage 2 of one stage time) and leaves 2 d after the first.
TEST(PipelineStages, TheSlowestStageSetsThePace) {
  PipelineStages pipeline(3);
  StageTimes times{0.0, {1.0, 2.0, 1.0}, {0.0, 0.0}};
  std::vector<double> starts;
  EXPECT_DOUBLE_EQ(pipeline.submit(0.0, times, starts), 4.0);
  EXPECT_DOUBLE_EQ(pipeline.submit(0.0, times, starts), 6.0);
  EXPECT_EQ(starts, (std::vector<double>{1.0, 3.0, 5.0}));
}

// The host's share delays its own batch but holds no stage: a batch submitted while stage 0 runs
// another is prepared meanwhile.
TEST(PipelineStages, HostShareDelaysItsBatchWithoutHoldingAStage) {
  PipelineStages pipeline(2);
  StageTimes times{0.5, {1.0, 1.0}, {0.0}};
  std::vector<double> starts;
  EXPECT_DOUBLE_EQ(pipeline.submit(0.0, times, starts), 2.5);
  EXPECT_DOUBLE_EQ(pipeline.submit(1.0, times, starts), 3.5);  // ready at 1.5 = when stage 0 frees
  EXPECT_EQ(starts, (std::vector<double>{1.5, 2.5}));
}

}  // namespace
}  // namespace servesim

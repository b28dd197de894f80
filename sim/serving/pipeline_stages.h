#pragma once
// Contract: the pipeline stages of one pipeline-parallel replica, as a line of
// FIFO servers. A batch submitted at time t is ready after the host's share
// (StageTimes::host_s) and enters stage 0 once stage 0 is free;
// stage k + 1 starts it once its activations have arrived (stage k's end + the
// send) and stage k + 1 is free. Batches never overtake one another, so with
// every stage time known at submission the whole passage is computed then,
// exactly, in O(stages): no event per stage. A stage waiting for its next
// batch is a pipeline bubble: its busy time is accumulated, the rest of the
// run is bubble. Times in seconds.

#include <cstdint>
#include <vector>

#include "models/execution/execution_model.h"

namespace servesim {

class PipelineStages {
 public:
  explicit PipelineStages(int64_t stages);
  /// Runs a batch submitted at `now` (stage times from the execution model) through every stage;
  /// fills `starts` with each stage's start time and returns when it leaves the last stage.
  double submit(double now, const StageTimes& times, std::vector<double>& starts);
  int64_t stages() const { return static_cast<int64_t>(free_at_.size()); }
  /// When stage `k` finishes the last batch submitted so far.
  double free_at(int64_t k) const { return free_at_[static_cast<std::size_t>(k)]; }
  /// Seconds stage `k` computed, over all batches.
  double busy_s(int64_t k) const { return busy_s_[static_cast<std::size_t>(k)]; }

 private:
  std::vector<double> free_at_;
  std::vector<double> busy_s_;
};

}  // namespace servesim

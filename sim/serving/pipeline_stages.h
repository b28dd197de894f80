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
// Linked mode (submit_linked): the sends between stages are activities on the
// platform (a collective model's send/recv over the links), whose time is known
// only when they land; stage k + 1 then starts the batch once it has landed and
// the batches before it have started there (batches still never overtake), on
// events of the engine. State per batch in flight only. With a stage runner, a stage's own time is
// not known either (its collectives run on the links): stage k starts the batch once it has arrived
// and stage k is free, the runner says when it is done, and only then is stage k free for the next.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "models/execution/execution_model.h"
#include "sim/core/engine.h"

namespace servesim {

class PipelineStages {
 public:
  explicit PipelineStages(int64_t stages);
  /// Runs a batch submitted at `now` (stage times from the execution model) through every stage;
  /// fills `starts` with each stage's start time and returns when it leaves the last stage.
  double submit(double now, const StageTimes& times, std::vector<double>& starts);
  /// Starts the send after stage `boundary` (to stage boundary + 1) of a batch; `landed` runs when it has.
  using Send = std::function<void(std::size_t boundary, double bytes, std::function<void()> landed)>;
  /// Runs stage `stage` of a batch (it has started); `done` runs when the stage has finished it.
  using RunStage = std::function<void(std::size_t stage, std::function<void()> done)>;
  /// Linked mode: the batch's sends run through `send` (times.send_s is not used); `on_last_stage` runs when
  /// the batch starts its last stage, with every stage's start and the time it leaves the pipeline. With
  /// `run` set, each stage runs through it (times.stage_s is not used) and `on_last_stage` runs when the last
  /// stage is done, with end = now. Do not mix with submit() on one pipeline.
  void submit_linked(Engine& engine, double now, const StageTimes& times, Send send, RunStage run,
                     std::function<void(const std::vector<double>& starts, double end)> on_last_stage);
  int64_t stages() const { return static_cast<int64_t>(free_at_.size()); }
  /// When stage `k` finishes the last batch submitted so far.
  double free_at(int64_t k) const { return free_at_[static_cast<std::size_t>(k)]; }
  /// Seconds stage `k` computed, over all batches.
  double busy_s(int64_t k) const { return busy_s_[static_cast<std::size_t>(k)]; }

 private:
  struct Passage {
    StageTimes times;
    std::vector<double> starts;
    Send send;
    RunStage run;
    std::function<void(const std::vector<double>&, double)> on_last_stage;
  };
  void start_run(Engine& engine, const std::shared_ptr<Passage>& p, uint64_t sequence, std::size_t k, double start);
  void stage_done(Engine& engine, const std::shared_ptr<Passage>& p, uint64_t sequence, std::size_t k, double start);
  void arrive(Engine& engine, const std::shared_ptr<Passage>& passage, uint64_t sequence, std::size_t stage,
              double at);
  void start_ready(Engine& engine, std::size_t stage);

  std::vector<double> free_at_;
  std::vector<double> busy_s_;
  // Linked mode: batches submitted so far, and per stage the next batch it takes and those that have
  // arrived before it (by submission order, with their arrival time).
  uint64_t submitted_ = 0;
  std::vector<uint64_t> next_;
  std::vector<std::map<uint64_t, std::pair<std::shared_ptr<Passage>, double>>> arrived_;
  std::vector<char> running_;  // with a stage runner: the stage has a batch started and not done
};

}  // namespace servesim

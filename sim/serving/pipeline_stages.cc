#include "sim/serving/pipeline_stages.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/core/check.h"

namespace servesim {

PipelineStages::PipelineStages(int64_t stages)
    : free_at_(static_cast<std::size_t>(stages), 0.0), busy_s_(static_cast<std::size_t>(stages), 0.0),
      next_(static_cast<std::size_t>(stages), 0), arrived_(static_cast<std::size_t>(stages)),
      running_(static_cast<std::size_t>(stages), 0) {
  SERVESIM_CHECK(stages >= 1, "a pipeline needs a stage");
}

double PipelineStages::submit(double now, const StageTimes& times, std::vector<double>& starts) {
  if (times.stage_s.size() != free_at_.size() || times.send_s.size() + 1 != free_at_.size()) {
    throw std::logic_error("pipeline of " + std::to_string(free_at_.size()) + " stages given " +
                           std::to_string(times.stage_s.size()) + " stage times and " +
                           std::to_string(times.send_s.size()) + " sends (" __FILE__ ")");
  }
  starts.resize(free_at_.size());
  double ready = now + times.host_s;  // when the batch's input is at the current stage
  for (std::size_t k = 0; k < free_at_.size(); ++k) {
    const double start = std::max(ready, free_at_[k]);
    starts[k] = start;
    free_at_[k] = start + times.stage_s[k];
    busy_s_[k] += times.stage_s[k];
    ready = free_at_[k] + (k < times.send_s.size() ? times.send_s[k] : 0.0);
  }
  return free_at_.back();
}

void PipelineStages::submit_linked(Engine& engine, double now, const StageTimes& times, Send send, RunStage run,
                                   std::function<void(const std::vector<double>& starts, double end)> on_last_stage) {
  if (times.stage_s.size() != free_at_.size() || times.send_bytes.size() + 1 != free_at_.size()) {
    throw std::logic_error("pipeline of " + std::to_string(free_at_.size()) + " stages given " +
                           std::to_string(times.stage_s.size()) + " stage times and " +
                           std::to_string(times.send_bytes.size()) + " send sizes (" __FILE__ ")");
  }
  auto passage = std::make_shared<Passage>(Passage{times, std::vector<double>(free_at_.size(), 0.0), std::move(send),
                                                   std::move(run), std::move(on_last_stage)});
  arrive(engine, passage, submitted_++, 0, now + times.host_s);
}

void PipelineStages::arrive(Engine& engine, const std::shared_ptr<Passage>& passage, uint64_t sequence,
                            std::size_t stage, double at) {
  arrived_[stage].emplace(sequence, std::make_pair(passage, at));
  start_ready(engine, stage);
}

void PipelineStages::start_ready(Engine& engine, std::size_t k) {
  auto& waiting = arrived_[k];
  while (!running_[k] && !waiting.empty() && waiting.begin()->first == next_[k]) {
    const uint64_t sequence = waiting.begin()->first;
    std::shared_ptr<Passage> p = std::move(waiting.begin()->second.first);
    const double at = waiting.begin()->second.second;
    waiting.erase(waiting.begin());
    ++next_[k];
    const double start = std::max(at, free_at_[k]);
    if (p->run) {  // the stage's time is known when the runner says it is done
      running_[k] = 1;
      p->starts[k] = start;
      engine.schedule_at(start, kPhaseDefault, [this, &engine, p, sequence, k, start] { start_run(engine, p, sequence, k, start); });
      return;
    }
    p->starts[k] = start;
    free_at_[k] = start + p->times.stage_s[k];
    busy_s_[k] += p->times.stage_s[k];
    if (k + 1 == free_at_.size()) {
      p->on_last_stage(p->starts, free_at_[k]);
      continue;
    }
    // The stage's output leaves when the stage ends; the next stage takes it once it has landed.
    engine.schedule_at(free_at_[k], kPhaseDefault, [this, &engine, p, sequence, k] {
      p->send(k, p->times.send_bytes[k], [this, &engine, p, sequence, k] { arrive(engine, p, sequence, k + 1, engine.now()); });
    });
  }
}

void PipelineStages::start_run(Engine& engine, const std::shared_ptr<Passage>& p, uint64_t sequence, std::size_t k,
                               double start) {
  p->run(k, [this, &engine, p, sequence, k, start] { stage_done(engine, p, sequence, k, start); });
}

void PipelineStages::stage_done(Engine& engine, const std::shared_ptr<Passage>& p, uint64_t sequence, std::size_t k,
                                double start) {
  const double now = engine.now();
  running_[k] = 0;
  free_at_[k] = now;
  busy_s_[k] += now - start;
  if (k + 1 == free_at_.size()) {
    p->on_last_stage(p->starts, now);
  } else {
    p->send(k, p->times.send_bytes[k], [this, &engine, p, sequence, k] { arrive(engine, p, sequence, k + 1, engine.now()); });
  }
  start_ready(engine, k);
}

}  // namespace servesim

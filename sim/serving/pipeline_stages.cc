#include "sim/serving/pipeline_stages.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/check.h"

namespace servesim {

PipelineStages::PipelineStages(int64_t stages)
    : free_at_(static_cast<std::size_t>(stages), 0.0), busy_s_(static_cast<std::size_t>(stages), 0.0) {
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

}  // namespace servesim

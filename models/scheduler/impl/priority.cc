// Priority classes (smaller = more important, from the trace's "priority"):
// admission picks the most important waiting request (then earliest arrival),
// and blocks are reclaimed from the least important running sequence,
// including to admit a more important request. Otherwise as vllm.
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

SERVESIM_REGISTER(Scheduler, "priority",
                  "vLLM with priority classes: admit by priority, preempt the least important",
                  budget_param_specs(8192, 256), [](const ParamValues& values) {
                    PolicyParams p;
                    read_budget_params(values, p);
                    p.by_priority = true;
                    return make_policy_scheduler(p);
                  });

}  // namespace
}  // namespace servesim

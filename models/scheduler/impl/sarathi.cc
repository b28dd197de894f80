// Sarathi-Serve (stall-free batching): every running decode first, then
// prefill chunks fill what is left of the chunk budget, so decodes never wait
// behind a long prompt.
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

SERVESIM_REGISTER(Scheduler, "sarathi", "Sarathi-Serve stall-free: decodes first, prefill chunks fill the budget",
                  budget_param_specs(512, 256), [](const ParamValues& values) {
                    PolicyParams p;
                    read_budget_params(values, p);
                    p.decodes_first = true;
                    return make_policy_scheduler(p);
                  });

}  // namespace
}  // namespace servesim

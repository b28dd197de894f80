// vLLM v1 default scheduler: running sequences first in admission order (decodes
// and unfinished prefill chunks mixed), then FCFS admission with chunked
// prefill under the token budget; when blocks run out the newest running
// sequence is preempted.
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

ParamSpecs vllm_specs() {
  ParamSpecs specs = budget_param_specs(8192, 256);
  specs.push_back(ParamSpec::integer("long_prefill_token_threshold", 0, 0, int64_t{1} << 24,
                                     "cap on one prefill chunk (tokens; 0 = the token budget)"));
  return specs;
}

SERVESIM_REGISTER(Scheduler, "vllm", "vLLM v1: chunked prefill mixed with decodes, FCFS, preempt newest",
                  vllm_specs(), [](const ParamValues& values) {
                    PolicyParams p;
                    read_budget_params(values, p);
                    p.long_prefill_tokens = values.integer("long_prefill_token_threshold");
                    return make_policy_scheduler(p);
                  });

}  // namespace
}  // namespace servesim

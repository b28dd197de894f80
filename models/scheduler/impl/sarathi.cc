// Sarathi-Serve (stall-free batching), as its scheduler and block manager run:
// every running decode first, then the unfinished prefill chunks, then new
// prompts fill what is left of the chunk budget, so decodes never wait behind a
// long prompt. Unlike vLLM V1 it allocates a prompt's KV in full when it admits
// it (so a running prefill never needs blocks) and admits only while
// `watermark` of the blocks stays free.
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

ParamSpecs sarathi_specs() {
  ParamSpecs specs = budget_param_specs(512, 256);
  specs.push_back(ParamSpec::number("watermark", 0.01, 0.0, 0.5,
                                    "fraction of the KV blocks an admission must leave free (Sarathi-Serve: 0.01)"));
  return specs;
}

SERVESIM_REGISTER(Scheduler, "sarathi",
                  "Sarathi-Serve stall-free: decodes first, prefill chunks fill the budget, whole-prompt KV at admission",
                  sarathi_specs(), [](const ParamValues& values) {
                    PolicyParams p;
                    read_budget_params(values, p);
                    p.decodes_first = true;
                    p.whole_prompt_blocks = true;
                    p.admission_watermark = values.number("watermark");
                    return make_policy_scheduler(p);
                  });

}  // namespace
}  // namespace servesim

// Whole-prefill schedulers. orca: iteration-level batching with whole prompts
// (no chunking) mixed with decodes. prefill-first (vLLM v0 default): when
// requests wait, an iteration runs only their whole prefills; otherwise it
// decodes. A prompt larger than the budget runs alone rather than starving.
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

std::unique_ptr<Scheduler> make_whole_prefill(const ParamValues& values, bool prefill_only) {
  PolicyParams p;
  read_budget_params(values, p);
  p.chunked_prefill = false;
  p.prefill_only_iterations = prefill_only;
  return make_policy_scheduler(p);
}

SERVESIM_REGISTER(Scheduler, "orca", "Orca: iteration-level batching, whole prefills (no chunking) with decodes",
                  budget_param_specs(8192, 256),
                  [](const ParamValues& values) { return make_whole_prefill(values, false); });

SERVESIM_REGISTER(Scheduler, "prefill-first",
                  "vLLM v0 default: whole prefills in prefill-only iterations, prioritised over decodes",
                  budget_param_specs(8192, 256),
                  [](const ParamValues& values) { return make_whole_prefill(values, true); });

}  // namespace
}  // namespace servesim

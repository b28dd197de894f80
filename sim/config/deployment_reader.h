#pragma once
// Contract: reads the deployment part of a config: "hardware", "model",
// "engine" (each a catalog name or an inline object) and "plan". Catalog names
// resolve against hardware/catalog, models/llm and models/execution/engines
// (under $SERVESIM_HOME, default the source tree). Every field is validated;
// unknown names list the available ones. The keys are marked as read on `root`,
// whose caller calls root.finish() after reading its own keys.

#include "models/execution/deployment.h"
#include "sim/core/config_node.h"

namespace servesim {

Deployment read_deployment(ConfigNode& root);

/// "disaggregation": {"prefill": PLAN, "decode": PLAN, "kv_link": {"bandwidth", "latency"}}: each
/// pool a plan as "plan" takes it (its dp = the pool's replicas), plus an optional "hardware" (a
/// catalog name or an inline node; default the config's). Exclusive with "plan". "decode_router"
/// is allowed and left to the serving run.
DisaggregatedPlan read_disaggregation(ConfigNode& root, const Deployment& deployment);

}  // namespace servesim

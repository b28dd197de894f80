#pragma once
// Contract: one deployment = hardware node + model + engine profile + parallelism
// plan, and what follows from it for memory: weights and KV bytes per GPU and
// the KV capacity. The serving core sizes its KV cache from KvBudget and times
// iterations with the ExecutionModel made for the deployment.
// (EngineProfile and calibration data are defined by the execution model.)

#include <cstdint>
#include <memory>
#include <string>

#include "hardware/hardware_spec.h"
#include "models/execution/engine_profile.h"
#include "models/execution/execution_model.h"
#include "models/llm/model_spec.h"

namespace servesim {

struct ParallelPlan {
  int64_t tp = 1;  // tensor parallel degree
  int64_t pp = 1;  // pipeline stages
  int64_t dp = 1;  // data-parallel replicas
  int64_t ep = 1;  // expert parallel degree (MoE)
  int64_t gpus_per_replica() const { return tp * pp; }
};

/// Prefill/decode disaggregation: one plan and node per pool (dp = the pool's
/// replicas) and the KV link each replica has for sending or receiving prefilled KV.
struct DisaggregatedPlan {
  ParallelPlan prefill;
  ParallelPlan decode;
  NodeSpec prefill_node;  // the deployment's node unless the pool names its own "hardware"
  NodeSpec decode_node;
  double kv_link_bytes_per_s = 0.0;
  double kv_link_latency_s = 0.0;
};

struct Deployment {
  NodeSpec node;
  ModelSpec model;
  EngineProfile engine;
  ParallelPlan plan;
};

struct KvBudget {
  double gpu_memory_bytes = 0.0;             // per GPU
  double weights_bytes_per_gpu = 0.0;
  double activation_reserve_bytes = 0.0;     // per GPU
  double kv_bytes_per_token_per_gpu = 0.0;   // all layers this GPU holds
  double kv_bytes_per_token_replica = 0.0;   // summed over the replica's GPUs (what a swap moves)
  int64_t capacity_tokens = 0;               // KV tokens that fit per replica
};

/// KV capacity = HBM x utilization - weights - activation reserve, per GPU.
/// Throws std::invalid_argument with "needs X GiB per GPU, has Y GiB" when the weights do not fit.
KvBudget kv_budget(const Deployment& deployment, double gpu_memory_utilization, int64_t max_batched_tokens);

/// The execution model for this deployment (op-level cost model, calibrated when
/// the GPU names a calibration).
std::unique_ptr<ExecutionModel> make_execution_model(const Deployment& deployment);

}  // namespace servesim

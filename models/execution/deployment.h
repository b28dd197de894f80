#pragma once
// Contract: one deployment = hardware node + model + engine profile + parallelism
// plan, and what follows from it for memory: weights and KV bytes per GPU and
// the KV capacity. The serving core sizes its KV cache from KvBudget and times
// iterations with the ExecutionModel made for the deployment.
// (EngineProfile and calibration data are defined by the execution model.)

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hardware/spec/node_spec.h"
#include "models/execution/engine_profile.h"
#include "models/execution/execution_model.h"
#include "models/llm/model_math.h"
#include "models/llm/model_spec.h"

namespace servesim {

/// How an MoE router spreads each token's top-k choices over the routed experts (plan key
/// "expert_routing"). Experts are numbered hottest first and placed on the EP ranks contiguously
/// (rank r holds experts [r E / ep, (r + 1) E / ep)), so skew loads the first rank most.
struct ExpertRouting {
  enum class Kind {
    kBalanced,     // every expert equally likely (the closed form)
    kZipf,         // share of expert e (0-based) proportional to (e + 1)^-zipf_s
    kFrequencies,  // share of expert e proportional to frequencies[e]
  };
  Kind kind = Kind::kBalanced;
  double zipf_s = 0.0;
  std::vector<double> frequencies;  // one per routed expert, relative (kFrequencies)
};

/// Per-token probability that each routed expert is among the token's `top_k` distinct choices:
/// proportional to the routing's shares, capped at 1, summing to top_k (the capped excess is
/// spread over the others in proportion to their shares). Needs at least top_k positive shares.
std::vector<double> expert_selection_probabilities(const ExpertRouting& routing, int64_t experts, int64_t top_k);

/// One pipeline stage runs on a group of max(tp, ep) GPUs (ep | tp or tp | ep). Attention is
/// tensor-parallel over tp GPUs and data-parallel over the group's max(tp, ep) / tp attention
/// groups; the routed experts are split over ep ranks (experts / ep whole experts each), each
/// expert tensor-parallel over max(tp, ep) / ep GPUs. ep = 1: plain TP (experts sharded by TP).
struct ParallelPlan {
  int64_t tp = 1;  // tensor parallel degree (attention and dense weights)
  int64_t pp = 1;  // pipeline stages
  int64_t dp = 1;  // data-parallel replicas
  int64_t ep = 1;  // expert parallel degree (MoE)
  ExpertRouting routing;  // MoE only
  /// GPUs of one pipeline stage.
  int64_t gpus_per_stage() const { return std::max(tp, ep); }
  /// Data-parallel attention groups within a stage (tp GPUs each).
  int64_t attention_groups() const { return gpus_per_stage() / tp; }
  int64_t gpus_per_replica() const { return gpus_per_stage() * pp; }
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

/// Precision of one deployment (config key "precision"). What each part changes:
/// - weights: bytes of every weight of the transformer layers (HBM footprint, bytes a GEMM streams).
///   Quantised checkpoints keep the embedding and the LM head in 16 bits (vLLM, DeepSeek-V3's FP8
///   checkpoint): those stay 2 bytes per parameter when weights are narrower.
/// - activations: the GEMMs' input dtype, hence the tensor-core path and efficiency curve of the
///   layer GEMMs (qkv, o, gate_up, down, experts). Narrower than 16 bits it must equal weights (W8A8,
///   W4A4) and each such GEMM pays a cast of its bf16 input (one elementwise kernel). The LM head,
///   attention, norms and the residual stream stay bf16. 16-bit activations with narrower weights
///   are weight-only quantisation (the GEMM runs at the 16-bit rate; dequantisation is not costed).
/// - kv_cache: bytes per KV element (KV capacity, swaps, decode attention's bytes); attention
///   compute stays bf16.
struct Precision {
  DType weights = DType::kBf16;
  DType activations = DType::kBf16;
  DType kv_cache = DType::kBf16;
  /// Whether the layer GEMMs run on a sub-16-bit tensor-core path (FP8 / FP4).
  bool low_precision_gemm() const { return activations == DType::kFp8 || activations == DType::kFp4; }
};

struct Deployment {
  NodeSpec node;
  ModelSpec model;
  EngineProfile engine;
  ParallelPlan plan;
  /// Must agree with model.weight_bytes_per_param / kv_bytes_per_element: set both with set_precision().
  Precision precision;
  /// The collective model ("collectives": {"impl", params}) pricing communication; empty = alpha-beta
  /// from the fabric's numbers.
  std::string collectives;
  ParamValues collectives_params;
};

/// Sets the deployment's precision and the model's bytes per weight and per KV element to match.
void set_precision(Deployment& deployment, const Precision& precision);

struct KvBudget {
  double gpu_memory_bytes = 0.0;             // per GPU
  double weights_bytes_per_gpu = 0.0;
  double activation_reserve_bytes = 0.0;     // per GPU
  double non_torch_bytes = 0.0;              // per GPU
  double cuda_graph_bytes = 0.0;             // per GPU
  double kv_cache_bytes_per_gpu = 0.0;       // what is left for KV
  double kv_bytes_per_token_per_gpu = 0.0;   // all layers this GPU holds
  double kv_bytes_per_token_replica = 0.0;   // summed over the replica's GPUs (what a swap moves)
  int64_t capacity_tokens = 0;               // KV tokens that fit per replica (all attention groups)
};

/// How the engine sizes its KV cache, as vLLM's memory profile does: of HBM x
/// gpu_memory_utilization it keeps the weights, the peak activations of a forward pass of
/// max_batched_tokens tokens, the memory held outside PyTorch's allocator (CUDA context growth,
/// cuBLAS and NCCL workspaces) and, where graphs are captured inside the budget, their pools.
struct MemoryBudgetParams {
  double gpu_memory_utilization = 0.9;
  int64_t max_batched_tokens = 8192;
  double non_torch_bytes = 0.0;   // per GPU
  double cuda_graph_bytes = 0.0;  // per GPU
};

/// KV capacity = HBM x utilization - weights - activation reserve - non-torch - CUDA graphs, per
/// GPU; a replica holds that per attention group (each group keeps the KV of its own sequences).
/// Weights per GPU: attention, dense FFN, shared experts, router, norms, embedding and LM head /
/// (tp x pp) + routed experts / (max(tp, ep) x pp). The activation reserve per token row is the
/// fused QKV output, gate+up and SiLU*up outputs and the hidden copies of one layer.
/// Throws std::invalid_argument with "needs X GiB per GPU, has Y GiB" when the weights do not fit.
KvBudget kv_budget(const Deployment& deployment, const MemoryBudgetParams& memory);
/// The same with no non-torch or CUDA-graph reserve.
KvBudget kv_budget(const Deployment& deployment, double gpu_memory_utilization, int64_t max_batched_tokens);

/// The execution model for this deployment (op-level cost model, calibrated when
/// the GPU names a calibration).
std::unique_ptr<ExecutionModel> make_execution_model(const Deployment& deployment);

}  // namespace servesim

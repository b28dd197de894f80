#include "models/execution/deployment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "models/llm/model_math.h"

namespace servesim {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// Activations live in bf16; the largest simultaneous set per token row is the
// fused QKV output, the gate+up output and SiLU*up result, plus a few hidden
// vectors (residual stream, norm output, attention output) and fp32 norm temporaries.
constexpr double kActivationBytes = 2.0;
constexpr double kHiddenCopies = 8.0;  // residual, norm in/out (fp32 = 2 bf16 copies each), attention out

}  // namespace

KvBudget kv_budget(const Deployment& deployment, double gpu_memory_utilization, int64_t max_batched_tokens) {
  const ModelSpec& model = deployment.model;
  const ParallelPlan& plan = deployment.plan;
  const double tp = static_cast<double>(plan.tp);
  const double pp = static_cast<double>(plan.pp);
  KvBudget budget;
  budget.gpu_memory_bytes = deployment.node.gpu.hbm_bytes;
  budget.weights_bytes_per_gpu = weight_bytes(model) / (tp * pp);

  const double q = static_cast<double>(model.heads * model.head_dim) / tp;
  const double kv = 2.0 * static_cast<double>(model.kv_heads * model.head_dim) / tp;
  const double ffn = static_cast<double>(model.is_moe() ? std::max(model.intermediate, model.moe.expert_intermediate *
                                                                                           model.moe.experts_per_token)
                                                        : model.intermediate) /
                     tp;
  const double row_bytes = kActivationBytes * (q + kv + 3.0 * ffn + kHiddenCopies * static_cast<double>(model.hidden));
  budget.activation_reserve_bytes = static_cast<double>(max_batched_tokens) * row_bytes;

  const double stage_layers = std::ceil(static_cast<double>(model.layers) / pp);
  const double kv_heads_per_gpu = std::max(1.0, static_cast<double>(model.kv_heads) / tp);
  const double per_layer_gpu = model.is_mla() ? kv_bytes_per_token_per_layer(model)
                                              : kv_bytes_per_token_per_layer(model) /
                                                    static_cast<double>(model.kv_heads) * kv_heads_per_gpu;
  budget.kv_bytes_per_token_per_gpu = per_layer_gpu * stage_layers;
  budget.kv_bytes_per_token_replica = per_layer_gpu * static_cast<double>(model.layers) * tp;

  const double usable = budget.gpu_memory_bytes * gpu_memory_utilization;
  const double needed = budget.weights_bytes_per_gpu + budget.activation_reserve_bytes;
  if (needed >= usable) {
    char text[256];
    std::snprintf(text, sizeof text,
                  "needs %.1f GiB per GPU (weights %.1f GiB + activations %.1f GiB), has %.1f GiB (%.0f%% of %.1f "
                  "GiB): short by %.1f GiB",
                  needed / kGiB, budget.weights_bytes_per_gpu / kGiB, budget.activation_reserve_bytes / kGiB,
                  usable / kGiB, gpu_memory_utilization * 100.0, budget.gpu_memory_bytes / kGiB,
                  (needed - usable) / kGiB);
    throw std::invalid_argument(text);
  }
  const double per_token_replica_gpu = budget.kv_bytes_per_token_per_gpu;
  budget.capacity_tokens = static_cast<int64_t>(std::floor((usable - needed) / per_token_replica_gpu));
  return budget;
}

}  // namespace servesim

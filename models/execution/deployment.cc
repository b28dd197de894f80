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

double routed_expert_bytes(const ModelSpec& model) {
  if (!model.is_moe()) return 0.0;
  const double moe_layers = static_cast<double>(model.layers - std::min(model.moe.dense_layers, model.layers));
  // gate, up and down projections of every routed expert (the router and shared experts stay with the dense part)
  return moe_layers * static_cast<double>(model.moe.experts) * 3.0 * static_cast<double>(model.hidden) *
         static_cast<double>(model.moe.expert_intermediate) * model.weight_bytes_per_param;
}

}  // namespace

void set_precision(Deployment& deployment, const Precision& precision) {
  deployment.precision = precision;
  deployment.model.weight_bytes_per_param = dtype_bytes(precision.weights);
  deployment.model.kv_bytes_per_element = dtype_bytes(precision.kv_cache);
}

std::vector<double> expert_selection_probabilities(const ExpertRouting& routing, int64_t experts, int64_t top_k) {
  const auto n = static_cast<std::size_t>(experts);
  std::vector<double> share(n, 1.0);
  if (routing.kind == ExpertRouting::Kind::kZipf) {
    for (std::size_t e = 0; e < n; ++e) share[e] = std::pow(static_cast<double>(e + 1), -routing.zipf_s);
  } else if (routing.kind == ExpertRouting::Kind::kFrequencies) {
    share = routing.frequencies;
  }
  // Water-filling: q_e = min(1, c x share_e) with c such that sum q_e = top_k. A token's k choices are
  // distinct, so no expert is picked with probability above 1; experts capped at 1 are taken out and
  // c is recomputed over the rest, largest shares first.
  std::vector<std::size_t> order(n);
  for (std::size_t e = 0; e < n; ++e) order[e] = e;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return share[a] > share[b]; });
  std::vector<double> q(n, 0.0);
  double remaining_k = static_cast<double>(top_k);
  double remaining_share = 0.0;
  for (double s : share) remaining_share += s;
  std::size_t capped = 0;
  while (capped < n && remaining_share > 0.0 && remaining_k * share[order[capped]] / remaining_share >= 1.0) {
    q[order[capped]] = 1.0;
    remaining_k -= 1.0;
    remaining_share -= share[order[capped]];
    ++capped;
  }
  for (std::size_t i = capped; i < n; ++i) {
    const std::size_t e = order[i];
    q[e] = remaining_share > 0.0 ? remaining_k * share[e] / remaining_share : 0.0;
  }
  return q;
}

KvBudget kv_budget(const Deployment& deployment, double gpu_memory_utilization, int64_t max_batched_tokens) {
  MemoryBudgetParams memory;
  memory.gpu_memory_utilization = gpu_memory_utilization;
  memory.max_batched_tokens = max_batched_tokens;
  return kv_budget(deployment, memory);
}

KvBudget kv_budget(const Deployment& deployment, const MemoryBudgetParams& memory) {
  const double gpu_memory_utilization = memory.gpu_memory_utilization;
  const int64_t max_batched_tokens = memory.max_batched_tokens;
  const ModelSpec& model = deployment.model;
  const ParallelPlan& plan = deployment.plan;
  const double tp = static_cast<double>(plan.tp);
  const double pp = static_cast<double>(plan.pp);
  const double stage_gpus = static_cast<double>(plan.gpus_per_stage());
  const double groups = static_cast<double>(plan.attention_groups());
  KvBudget budget;
  budget.gpu_memory_bytes = deployment.node.gpu.hbm_bytes;
  if (plan.ep == 1) {
    budget.weights_bytes_per_gpu = weight_bytes(model) / (tp * pp);
  } else {
    // Routed experts are split over the stage's GPUs (ep ranks x expert TP); the rest is replicated
    // on every attention group and split by tp.
    const double routed = routed_expert_bytes(model);
    budget.weights_bytes_per_gpu = (weight_bytes(model) - routed) / (tp * pp) + routed / (stage_gpus * pp);
  }

  // Each GPU holds the activations of its attention group's share of the batch (1 / groups of the
  // tokens) for attention and the hidden copies; the FFN rows (dense, or top-k expert rows) are spread
  // over every GPU of the stage (balanced routing).
  const double q = static_cast<double>(model.heads * model.head_dim) / tp;
  const double kv = 2.0 * static_cast<double>(model.kv_heads * model.head_dim) / tp;
  const double ffn = static_cast<double>(model.is_moe() ? std::max(model.intermediate, model.moe.expert_intermediate *
                                                                                           model.moe.experts_per_token)
                                                        : model.intermediate) /
                     stage_gpus;
  const double row_bytes =
      kActivationBytes * (q / groups + kv / groups + 3.0 * ffn + kHiddenCopies * static_cast<double>(model.hidden) / groups);
  budget.activation_reserve_bytes = static_cast<double>(max_batched_tokens) * row_bytes;

  const double stage_layers = std::ceil(static_cast<double>(model.layers) / pp);
  const double kv_heads_per_gpu = std::max(1.0, static_cast<double>(model.kv_heads) / tp);
  const double per_layer_gpu = model.is_mla() ? kv_bytes_per_token_per_layer(model)
                                              : kv_bytes_per_token_per_layer(model) /
                                                    static_cast<double>(model.kv_heads) * kv_heads_per_gpu;
  budget.kv_bytes_per_token_per_gpu = per_layer_gpu * stage_layers;
  budget.kv_bytes_per_token_replica = per_layer_gpu * static_cast<double>(model.layers) * tp;

  budget.non_torch_bytes = memory.non_torch_bytes;
  budget.cuda_graph_bytes = memory.cuda_graph_bytes;
  const double usable = budget.gpu_memory_bytes * gpu_memory_utilization;
  const double reserves = budget.non_torch_bytes + budget.cuda_graph_bytes;
  const double needed = budget.weights_bytes_per_gpu + budget.activation_reserve_bytes + reserves;
  if (needed >= usable) {
    char reserve_text[96] = "";
    const int n = budget.non_torch_bytes > 0.0 ? std::snprintf(reserve_text, sizeof reserve_text, " + non-torch %.2f GiB",
                                                               budget.non_torch_bytes / kGiB)
                                               : 0;
    if (budget.cuda_graph_bytes > 0.0) {
      std::snprintf(reserve_text + n, sizeof reserve_text - static_cast<std::size_t>(n), " + CUDA graphs %.2f GiB",
                    budget.cuda_graph_bytes / kGiB);
    }
    char text[320];
    std::snprintf(text, sizeof text,
                  "needs %.1f GiB per GPU (weights %.1f GiB + activations %.1f GiB%s), has %.1f GiB (%.0f%% of %.1f "
                  "GiB): short by %.1f GiB",
                  needed / kGiB, budget.weights_bytes_per_gpu / kGiB, budget.activation_reserve_bytes / kGiB,
                  reserve_text, usable / kGiB, gpu_memory_utilization * 100.0, budget.gpu_memory_bytes / kGiB,
                  (needed - usable) / kGiB);
    throw std::invalid_argument(text);
  }
  budget.kv_cache_bytes_per_gpu = usable - needed;
  const double per_token_replica_gpu = budget.kv_bytes_per_token_per_gpu;
  // Each attention group holds the KV of its own sequences: the replica's capacity is a groups' worth
  // (treated as one pool: the serving core does not pin a sequence to a group).
  budget.capacity_tokens =
      static_cast<int64_t>(std::floor((usable - needed) / per_token_replica_gpu)) * plan.attention_groups();
  return budget;
}

}  // namespace servesim

#pragma once
// Contract: what one engine iteration launches, kernel by kernel, as data
// (models/execution/engines/*.json, read by sim/config): which kernels run per
// layer and around the layer stack, how many bytes each elementwise kernel moves
// per token row (as multiples of the per-GPU widths), whether iterations are
// replayed from CUDA graphs or launched one by one from the host, and whether
// the engine pays the host's per-iteration scheduling overhead. The cost model
// turns this into time; the profile itself has no behaviour.

#include <cstdint>
#include <string>
#include <vector>

namespace servesim {

enum class KernelKind {
  kElementwise,  // streams bytes_per_row x rows through HBM
  kGemm,         // y = x W^T against one of the model's weights
  kAttention,    // one launch per batch segment (prefill) or per decode group
};

/// Which weight a GEMM multiplies by (sharded by the plan; the MoE router, hidden -> experts, is
/// replicated on every GPU).
enum class GemmWeight { kQkv, kO, kGateUp, kDown, kLmHead, kRouter };

/// Which of the layer stack's layers a layer kernel runs in: every layer, or only the MoE layers
/// (routing, gathering tokens to their experts and back).
enum class LayerScope { kAll, kMoe };

/// How an engine runs a MoE layer's routed experts: one grouped kernel per matrix over every expert
/// of the GPU (vLLM's fused_moe: one fixed cost), or one GEMM per expert in turn (a Python loop over
/// experts: each pays its own fixed cost and tile occupancy over only its own rows).
enum class MoeExperts { kGrouped, kSequential };

/// Which token rows a kernel processes: every new token, or only the sampled ones
/// (the last token of each sequence: LM head, final norm, argmax).
enum class RowScope { kTokens, kSampled };

/// Bytes an elementwise kernel moves per row, as coefficients of the per-GPU
/// widths: hidden, query (heads x head_dim / tp), kv (kv_heads x head_dim / tp),
/// ffn (intermediate / tp) and vocab (vocab / tp), plus a constant.
struct RowBytes {
  double hidden = 0.0;
  double q = 0.0;
  double kv = 0.0;
  double ffn = 0.0;
  double vocab = 0.0;
  double experts = 0.0;  // routed experts of the model (router logits)
  double constant = 0.0;
};

struct KernelSpec {
  std::string name;
  KernelKind kind = KernelKind::kElementwise;
  int64_t launches = 1;  // kernels one instance launches (host pays each)
  RowScope rows = RowScope::kTokens;
  RowBytes bytes_per_row;                  // kElementwise
  GemmWeight weight = GemmWeight::kQkv;    // kGemm
  LayerScope layers = LayerScope::kAll;    // layer kernels only
  /// Elementwise layer kernel that a MoE layer runs once per routed expert of the GPU over that
  /// expert's rows (its `ffn` width is then the expert's); dense layers run it once over every row.
  bool per_expert = false;
};

struct EngineProfile {
  std::string name;
  std::string description;
  std::string version;  // the engine release the profile models (reported by `servesim step`); "" = not stated
  bool graph_prefill = false;  // iterations with prefill tokens replayed from a CUDA graph
  bool graph_decode = false;   // decode-only iterations replayed from a CUDA graph
  /// Prefill attention repeats K/V to every query head before the kernel (the
  /// reference engine's SDPA path): extra traffic of 2 x (kv + q) x 2 bytes per token.
  bool prefill_repeat_kv = false;
  /// Decode attention splits each sequence's KV over several thread blocks (flash-decoding, as
  /// FlashAttention / FlashInfer kernels run in vLLM), so a few sequences or KV heads still fill the
  /// GPU: no occupancy loss (GpuEfficiency::attention_decode_half_heads does not apply).
  bool decode_split_kv = false;
  int64_t attention_launches = 1;  // kernels (host launches) per attention call
  MoeExperts moe_experts = MoeExperts::kGrouped;
  /// The engine pays HostCpuSpec::iteration_overhead_s + sequence_overhead_s x
  /// sequences in the batch (scheduling, input preparation, sampling, output
  /// processing) every iteration, not overlapped.
  bool host_iteration_overhead = false;
  std::vector<KernelSpec> prologue;  // before the layers (embedding)
  std::vector<KernelSpec> layer;     // once per transformer layer
  std::vector<KernelSpec> epilogue;  // after the layers (final norm, LM head, sampling)
};

}  // namespace servesim

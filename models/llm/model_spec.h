#pragma once
// Contract: the architecture of a decoder-only LLM as published in its config:
// dense (Llama), grouped-query attention, mixture of experts (Mixtral,
// DeepSeek-V3 with shared experts) and multi-head latent attention (MLA).
// Plain numbers, no behaviour beyond derived sizes. `vocab == 0` means a stack
// of layers only (no embedding, no LM head). Sizes in bytes, counts in tokens.

#include <cstdint>
#include <string>

namespace servesim {

/// Number formats of weights, GEMM inputs and the KV cache (bytes: dtype_bytes in model_math.h).
enum class DType { kFp32, kBf16, kFp16, kFp8, kFp4, kInt8, kInt4 };

struct MoeSpec {
  int64_t experts = 0;            // routed experts per MoE layer (0 = dense model)
  int64_t experts_per_token = 0;  // top-k
  int64_t shared_experts = 0;     // always-active experts (DeepSeek)
  int64_t expert_intermediate = 0;
  int64_t dense_layers = 0;       // leading layers that stay dense (DeepSeek-V3: 3)
};

struct MlaSpec {
  int64_t kv_lora_rank = 0;  // 0 = no MLA
  int64_t q_lora_rank = 0;
  int64_t rope_head_dim = 0;
  int64_t nope_head_dim = 0;
  int64_t v_head_dim = 0;
};

struct ModelSpec {
  std::string name;
  int64_t hidden = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t intermediate = 0;  // dense MLP width
  int64_t vocab = 0;
  int64_t max_context = 0;   // tokens; 0 = unknown
  bool tied_embeddings = false;
  // Bytes per weight of the transformer layers; the embedding and LM head stay 16-bit when this is
  // narrower (quantised checkpoints keep them unquantised, see model_math.h).
  double weight_bytes_per_param = 2.0;  // bf16
  double kv_bytes_per_element = 2.0;
  // The checkpoint's formats (catalog keys "dtype", "kv_dtype"): the defaults of a deployment's
  // precision, which sets the two byte counts above (set_precision in models/execution/deployment.h).
  DType dtype = DType::kBf16;
  DType kv_dtype = DType::kBf16;
  MoeSpec moe;
  MlaSpec mla;

  bool is_moe() const { return moe.experts > 0; }
  bool is_mla() const { return mla.kv_lora_rank > 0; }
};

}  // namespace servesim

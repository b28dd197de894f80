#pragma once
// Contract: closed-form sizes derived from a ModelSpec: parameter counts per
// weight, bytes of weights, KV bytes per token. Pure functions; dense, GQA, MoE
// and MLA models. Sharding by the plan is applied by the callers.

#include <cstdint>

#include "models/llm/model_spec.h"

namespace servesim {

/// Parameters of one layer's attention block (QKV + output projections; MLA: the
/// low-rank down/up projections).
double attention_params_per_layer(const ModelSpec& model);
/// Parameters of one layer's feed-forward block (dense layer, or all experts +
/// shared experts + router of an MoE layer).
double ffn_params_per_layer(const ModelSpec& model, int64_t layer);
/// Embedding + LM head parameters (one copy when tied).
double embedding_params(const ModelSpec& model);
/// All parameters.
double total_params(const ModelSpec& model);
/// Name as configs spell it ("bf16", "fp8", ...).
const char* dtype_name(DType dtype);
/// Bytes per element (fp4 / int4: 0.5).
double dtype_bytes(DType dtype);
/// Bytes per parameter of unquantised weights (bf16 / fp16).
constexpr double kUnquantisedBytesPerParam = 2.0;
/// Weight bytes of the whole model: the layers at weight_bytes_per_param, the embedding and LM
/// head at max(weight_bytes_per_param, 2) (FP8 / FP4 / int checkpoints leave them 16-bit).
double weight_bytes(const ModelSpec& model);
/// Bytes per parameter of the LM head (and embedding): max(weight_bytes_per_param, 2).
double lm_head_bytes_per_param(const ModelSpec& model);
/// KV cache bytes per token per layer (MLA: the compressed latent + rope key).
double kv_bytes_per_token_per_layer(const ModelSpec& model);
/// True if layer `layer` (0-based) is an MoE layer.
bool is_moe_layer(const ModelSpec& model, int64_t layer);

}  // namespace servesim

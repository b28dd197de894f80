#include "models/llm/model_math.h"

#include <algorithm>

namespace servesim {

double attention_params_per_layer(const ModelSpec& model) {
  const double h = static_cast<double>(model.hidden);
  if (model.is_mla()) {
    const MlaSpec& mla = model.mla;
    const double heads = static_cast<double>(model.heads);
    const double q_head = static_cast<double>(mla.nope_head_dim + mla.rope_head_dim);
    const double q = mla.q_lora_rank > 0 ? h * mla.q_lora_rank + mla.q_lora_rank * heads * q_head : h * heads * q_head;
    const double kv_down = h * static_cast<double>(mla.kv_lora_rank + mla.rope_head_dim);
    const double kv_up = static_cast<double>(mla.kv_lora_rank) * heads * (mla.nope_head_dim + mla.v_head_dim);
    const double o = heads * mla.v_head_dim * h;
    return q + kv_down + kv_up + o;
  }
  const double q = static_cast<double>(model.heads * model.head_dim);
  const double kv = static_cast<double>(model.kv_heads * model.head_dim);
  return h * (q + 2.0 * kv) + q * h;
}

bool is_moe_layer(const ModelSpec& model, int64_t layer) { return model.is_moe() && layer >= model.moe.dense_layers; }

double ffn_params_per_layer(const ModelSpec& model, int64_t layer) {
  const double h = static_cast<double>(model.hidden);
  if (!is_moe_layer(model, layer)) return 3.0 * h * static_cast<double>(model.intermediate);
  const MoeSpec& moe = model.moe;
  const double experts = static_cast<double>(moe.experts + moe.shared_experts);
  return experts * 3.0 * h * static_cast<double>(moe.expert_intermediate) + h * static_cast<double>(moe.experts);
}

double embedding_params(const ModelSpec& model) {
  const double one = static_cast<double>(model.vocab) * static_cast<double>(model.hidden);
  return model.tied_embeddings ? one : 2.0 * one;
}

double total_params(const ModelSpec& model) {
  double total = embedding_params(model);
  for (int64_t layer = 0; layer < model.layers; ++layer) {
    total += attention_params_per_layer(model) + ffn_params_per_layer(model, layer) +
             2.0 * static_cast<double>(model.hidden);  // two norm weights
  }
  return total;
}

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFp32: return "fp32";
    case DType::kBf16: return "bf16";
    case DType::kFp16: return "fp16";
    case DType::kFp8: return "fp8";
    case DType::kFp4: return "fp4";
    case DType::kInt8: return "int8";
    case DType::kInt4: return "int4";
  }
  return "unknown";
}

double dtype_bytes(DType dtype) {
  switch (dtype) {
    case DType::kFp32: return 4.0;
    case DType::kBf16:
    case DType::kFp16: return 2.0;
    case DType::kFp8:
    case DType::kInt8: return 1.0;
    case DType::kFp4:
    case DType::kInt4: return 0.5;
  }
  return 2.0;
}

double weight_bytes(const ModelSpec& model) {
  if (model.weight_bytes_per_param >= kUnquantisedBytesPerParam) return total_params(model) * model.weight_bytes_per_param;
  // Quantised checkpoints keep the embedding and the LM head in 16 bits.
  const double embedding = embedding_params(model);
  return (total_params(model) - embedding) * model.weight_bytes_per_param + embedding * kUnquantisedBytesPerParam;
}

double lm_head_bytes_per_param(const ModelSpec& model) {
  return std::max(model.weight_bytes_per_param, kUnquantisedBytesPerParam);
}

double kv_bytes_per_token_per_layer(const ModelSpec& model) {
  if (model.is_mla()) {
    return static_cast<double>(model.mla.kv_lora_rank + model.mla.rope_head_dim) * model.kv_bytes_per_element;
  }
  return 2.0 * static_cast<double>(model.kv_heads * model.head_dim) * model.kv_bytes_per_element;
}

}  // namespace servesim

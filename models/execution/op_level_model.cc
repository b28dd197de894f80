#include "models/execution/op_level_model.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "models/llm/model_math.h"
#include "sim/core/check.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

// Datasheet-only GPUs: achieved fractions of the datasheet peaks and fixed
// latencies taken from our h100-sxm calibration (models/execution/calibrations/
// h100-sxm.json, fitted by `servesim calibrate` on the H100 microbenchmarks):
// fitted rate / H100 datasheet peak (989.4 TFLOP/s, 3.35 TB/s).
constexpr double kDefaultGemmFlopsFraction = 0.751;      // 742.8 TFLOP/s
constexpr double kDefaultGemmBytesFraction = 0.823;      // 2.758 TB/s
constexpr double kDefaultGemmLatencyS = 20.8e-6;
constexpr double kDefaultGemmMemoryLatencyS = 16.4e-6;
constexpr double kDefaultAttentionPrefillFraction = 0.653;  // 646.2 TFLOP/s
constexpr double kDefaultAttentionPrefillLatencyS = 60.4e-6;
constexpr double kDefaultAttentionDecodeFraction = 0.906;   // 3.034 TB/s
constexpr double kDefaultAttentionDecodeLatencyS = 19.6e-6;
constexpr double kDefaultAttentionDecodeHalfHeads = 4.0;    // sequences x KV heads at half bandwidth
constexpr double kDefaultAttentionDecodeSequenceS = 0.0;    // H100 fit: no per-sequence term
constexpr double kDefaultElementwiseFraction = 0.893;       // 2.991 TB/s (copy, read + write)
constexpr double kDefaultGraphKernelS = 1.17e-6;

constexpr double kTile = 128.0;
constexpr double kActivationBytes = 2.0;  // bf16 activations
// Between pipeline stages vLLM sends the hidden states and the residual (two bf16 rows of `hidden`).
constexpr double kPipelineSendBytesPerRow = 2.0 * kActivationBytes;

double ceil_div(double a, double b) { return std::ceil(a / b); }

Provenance weaker(Provenance a, Provenance b) { return static_cast<int>(a) > static_cast<int>(b) ? a : b; }

}  // namespace

GpuEfficiency effective_efficiency(const GpuSpec& gpu) {
  if (gpu.efficiency.calibrated) return gpu.efficiency;
  GpuEfficiency eff = gpu.efficiency;
  eff.source = "datasheet peaks x default fractions (from our H100 SXM calibration)";
  eff.gemm_flops_per_s = kDefaultGemmFlopsFraction * gpu.bf16_flops_per_s;
  eff.gemm_bytes_per_s = kDefaultGemmBytesFraction * gpu.hbm_bytes_per_s;
  eff.gemm_latency_s = kDefaultGemmLatencyS;
  eff.gemm_memory_latency_s = kDefaultGemmMemoryLatencyS;
  eff.attention_prefill_flops_per_s = kDefaultAttentionPrefillFraction * gpu.bf16_flops_per_s;
  eff.attention_prefill_latency_s = kDefaultAttentionPrefillLatencyS;
  eff.attention_decode_bytes_per_s = kDefaultAttentionDecodeFraction * gpu.hbm_bytes_per_s;
  eff.attention_decode_latency_s = kDefaultAttentionDecodeLatencyS;
  eff.attention_decode_half_heads = kDefaultAttentionDecodeHalfHeads;
  eff.attention_decode_sequence_s = kDefaultAttentionDecodeSequenceS;
  eff.elementwise_bytes_per_s = kDefaultElementwiseFraction * gpu.hbm_bytes_per_s;
  eff.graph_kernel_s = kDefaultGraphKernelS;
  return eff;
}

GpuEfficiency iteration_efficiency(GpuEfficiency eff) {
  // The fixed terms of the memory-bound and attention fits are the part of one
  // timed call's host dispatch the GPU waits for (the slope bandwidths are at the
  // measured HBM read rate, so the intercepts cannot be GPU time): inside an
  // iteration kernels are queued back to back (graph) or their host cost is
  // modelled separately (eager), so only the per-kernel floor remains.
  // Curves fitted to CUDA-graph replayed (GPU-only) timings keep their fixed terms.
  if (!eff.gemm_fixed_term_is_gpu_time) eff.gemm_memory_latency_s = 0.0;
  if (!eff.decode_attention_fixed_term_is_gpu_time) eff.attention_decode_latency_s = 0.0;
  if (!eff.prefill_attention_fixed_term_is_gpu_time) eff.attention_prefill_latency_s = 0.0;
  // Rates stay the burst (boost-clock) microbenchmark rates: what sustained work loses under the
  // power limit is the power model's clock (PowerModel::at_power_limit).
  return eff;
}

GemmCurve gemm_curve(const GpuSpec& gpu, DType compute) {
  const GpuEfficiency eff = effective_efficiency(gpu);
  if (compute == DType::kFp8 && gpu.efficiency.gemm_fp8.flops_per_s > 0.0) return gpu.efficiency.gemm_fp8;
  GemmCurve curve;
  curve.latency_s = eff.gemm_latency_s;
  curve.memory_latency_s = eff.gemm_memory_latency_s;
  curve.flops_per_s = eff.gemm_flops_per_s;
  curve.bytes_per_s = eff.gemm_bytes_per_s;
  curve.half_tiles = eff.gemm_half_tiles;
  curve.memory_half_tiles = eff.gemm_memory_half_tiles;
  curve.overlap = eff.gemm_overlap;
  curve.fixed_term_is_gpu_time = eff.gemm_fixed_term_is_gpu_time;
  curve.measured = eff.calibrated;
  curve.measured_shapes = eff.gemm_measured_shapes;
  curve.source = eff.source;
  if (compute == DType::kBf16) return curve;
  const double peak = compute == DType::kFp16  ? gpu.fp16_flops_per_s
                      : compute == DType::kFp8 ? gpu.fp8_flops_per_s
                      : compute == DType::kFp4 ? gpu.fp4_flops_per_s
                                               : gpu.bf16_flops_per_s;
  assert(peak > 0.0 && "no tensor-core peak for this dtype: the config reader refuses it");
  const double ratio = peak / gpu.bf16_flops_per_s;
  if (compute == DType::kFp16 && ratio == 1.0) return curve;  // the same tensor-core rate
  // Derived: the bf16 fit's shape and fixed terms, its rates x the FP8 / bf16 rate ratio measured on
  // the same tensor cores where the catalog gives one, else x the dense peak ratio (datasheet-derived);
  // the memory regime streams the same bytes / s.
  const bool measured_ratio = compute == DType::kFp8 && gpu.fp8_gemm_rate_ratio > 0.0;
  curve.flops_per_s *= measured_ratio ? gpu.fp8_gemm_rate_ratio : ratio;
  curve.measured = false;
  curve.measured_shapes.clear();
  char text[160];
  if (measured_ratio) {
    std::snprintf(text, sizeof text, "derived: bf16 GEMM curve x %.2f (the FP8 / bf16 rate ratio measured on the same tensor cores)",
                  gpu.fp8_gemm_rate_ratio);
  } else {
    std::snprintf(text, sizeof text, "datasheet-derived: bf16 GEMM curve x %s / bf16 dense peak (x%.2f)",
                  dtype_name(compute), ratio);
  }
  curve.source = text;
  return curve;
}

GpuEfficiency with_gemm_curve(GpuEfficiency eff, const GemmCurve& curve) {
  eff.gemm_latency_s = curve.latency_s;
  eff.gemm_memory_latency_s = curve.memory_latency_s;
  eff.gemm_flops_per_s = curve.flops_per_s;
  eff.gemm_bytes_per_s = curve.bytes_per_s;
  eff.gemm_half_tiles = curve.half_tiles;
  eff.gemm_memory_half_tiles = curve.memory_half_tiles;
  eff.gemm_overlap = curve.overlap;
  eff.gemm_fixed_term_is_gpu_time = curve.fixed_term_is_gpu_time;
  eff.gemm_measured_shapes = curve.measured_shapes;
  return eff;
}

GemmCost gemm_cost(const GpuEfficiency& eff, int64_t sms, double m, double n, double k, double weight_bytes_per_param,
                   double input_bytes_per_element) {
  GemmCost cost;
  if (m <= 0.0 || n <= 0.0 || k <= 0.0) return cost;
  cost.flops = 2.0 * m * n * k;
  (void)sms;
  const double tiles = ceil_div(m, static_cast<double>(eff.gemm_tile_m)) * ceil_div(n, static_cast<double>(eff.gemm_tile_n));
  cost.tile_flops = cost.flops * (tiles + eff.gemm_half_tiles) / tiles;  // FLOPs at full-occupancy cost
  const double activation_bytes = input_bytes_per_element == kActivationBytes
                                      ? kActivationBytes * (m * k + m * n)
                                      : input_bytes_per_element * m * k + kActivationBytes * m * n;  // y is bf16
  cost.bytes = activation_bytes + weight_bytes_per_param * n * k;
  const double compute_work = cost.tile_flops / eff.gemm_flops_per_s;
  const double memory_work = cost.bytes * (tiles + eff.gemm_memory_half_tiles) / tiles / eff.gemm_bytes_per_s;
  cost.compute_s = eff.gemm_latency_s + compute_work;
  cost.memory_s = eff.gemm_memory_latency_s + memory_work;
  cost.seconds = std::max(cost.compute_s, cost.memory_s) + eff.gemm_overlap * std::min(compute_work, memory_work);
  cost.bound = cost.compute_s >= cost.memory_s ? Bound::kCompute : Bound::kMemory;
  if (cost.seconds <= eff.graph_kernel_s) {
    cost.seconds = eff.graph_kernel_s;
    cost.bound = Bound::kLatency;
  }
  return cost;
}

double decode_attention_stream_s(const GpuEfficiency& eff, double sequences, double kv_bytes, double parallel_items) {
  // Few work items (sequences x KV heads) leave SMs idle: HBM is streamed at items / (items + half)
  // of the fitted bandwidth. Each sequence also pays a fixed time (its partial results, softmax
  // rescale and output row).
  const double occupancy =
      parallel_items > 0.0 ? parallel_items / (parallel_items + eff.attention_decode_half_heads) : 1.0;
  return sequences * eff.attention_decode_sequence_s + kv_bytes / (eff.attention_decode_bytes_per_s * occupancy);
}

double causal_tile_pairs(int64_t new_tokens, int64_t context_tokens) {
  // Query tiles of the new tokens against key tiles of the context (full) and of
  // the new tokens (lower triangle incl. the diagonal tiles).
  const double q_tiles = ceil_div(static_cast<double>(new_tokens), kTile);
  const double ctx_tiles = ceil_div(static_cast<double>(context_tokens), kTile);
  return q_tiles * ctx_tiles + q_tiles * (q_tiles + 1.0) / 2.0;
}

OpLevelExecutionModel::OpLevelExecutionModel(const Deployment& deployment)
    : eff_(iteration_efficiency(effective_efficiency(deployment.node.gpu))),
      sms_(deployment.node.gpu.sms),
      tp_(deployment.plan.tp),
      pp_(deployment.plan.pp),
      stage_gpus_(deployment.plan.gpus_per_stage()),
      ep_(deployment.plan.ep),
      attention_groups_(deployment.plan.attention_groups()) {
  const ModelSpec& model = deployment.model;
  const EngineProfile& engine = deployment.engine;
  const double tp = static_cast<double>(tp_);
  weight_bpp_ = model.weight_bytes_per_param;
  const double lm_head_bpp = lm_head_bytes_per_param(model);
  const Precision& precision = deployment.precision;
  const bool low_precision = precision.low_precision_gemm();
  const GemmCurve low_curve = low_precision ? gemm_curve(deployment.node.gpu, precision.activations) : GemmCurve{};
  if (low_precision) {
    eff_low_ = iteration_efficiency(with_gemm_curve(effective_efficiency(deployment.node.gpu), low_curve));
    act_bytes_ = dtype_bytes(precision.activations);
    const GpuSpec& gpu = deployment.node.gpu;
    const double peak = precision.activations == DType::kFp8   ? gpu.fp8_flops_per_s
                        : precision.activations == DType::kFp4 ? gpu.fp4_flops_per_s
                                                               : gpu.fp16_flops_per_s;
    if (peak > 0.0 && gpu.bf16_flops_per_s > 0.0) low_flop_energy_ = gpu.bf16_flops_per_s / peak;
  }
  const char* layer_dtype = dtype_name(precision.activations);
  // The LM head is never quantised: 16-bit weights and compute (fp16 when the deployment is fp16).
  const char* lm_head_dtype = precision.activations == DType::kFp16 ? "fp16" : "bf16";
  hidden_ = static_cast<double>(model.hidden);
  gpus_ = stage_gpus_ * pp_;

  const double heads = static_cast<double>(model.heads) / tp;
  const double kv_heads = std::max(1.0, static_cast<double>(model.kv_heads) / tp);
  const double head_dim = static_cast<double>(model.head_dim);
  const double q_width = heads * head_dim;
  double kv_width = kv_heads * head_dim;
  double qkv_n = q_width + 2.0 * kv_width;
  double o_k = q_width;
  if (model.is_mla()) {
    // Latent KV (kv_lora_rank + rope) is replicated on every TP rank; the
    // projections are costed as one GEMM with the same parameter count.
    kv_width = static_cast<double>(model.mla.kv_lora_rank + model.mla.rope_head_dim);
    o_k = heads * static_cast<double>(model.mla.v_head_dim);
    const double o_params = static_cast<double>(model.heads * model.mla.v_head_dim) * hidden_;
    qkv_n = (attention_params_per_layer(model) - o_params) / hidden_ / tp;
  }
  const double ffn = static_cast<double>(model.intermediate) / tp;
  const double vocab = static_cast<double>(model.vocab) / tp;

  attn_flops_per_tile_pair_ = 4.0 * kTile * kTile * heads * head_dim;
  kv_bytes_per_token_layer_ = model.is_mla() ? kv_bytes_per_token_per_layer(model)
                                             : kv_bytes_per_token_per_layer(model) / static_cast<double>(model.kv_heads) * kv_heads;
  attn_decode_flops_per_token_ = 4.0 * heads * (model.is_mla() ? kv_width : head_dim);
  // Decode work items per sequence: its KV heads on this GPU (each streams its own KV); MLA's one
  // latent is shared by every query head and its kernels split the query heads (assumed).
  // Split-KV kernels fill the GPU whatever the count: no items to count (occupancy 1).
  decode_items_per_sequence_ = engine.decode_split_kv ? 0.0 : model.is_mla() ? heads : kv_heads;
  attention_launches_ = engine.attention_launches;
  if (engine.prefill_repeat_kv) {
    repeat_kv_bytes_per_token_ = 2.0 * kActivationBytes * (kv_width + q_width);
    repeat_kv_launches_ = 2;
  }
  const bool calibrated = eff_.calibrated;
  attention_provenance_ = calibrated ? Provenance::kInterpolated : Provenance::kDatasheet;

  if (model.is_moe()) {
    sequential_experts_ = engine.moe_experts == MoeExperts::kSequential;
    moe_experts_ = static_cast<double>(model.moe.experts);
    moe_topk_ = static_cast<double>(model.moe.experts_per_token);
    expert_all_to_all_ = ep_ > 1 && ep_ >= tp_;
    hottest_rank_share_ = 1.0 / static_cast<double>(ep_);
    if (deployment.plan.routing.kind != ExpertRouting::Kind::kBalanced) {
      const std::vector<double> picked =
          expert_selection_probabilities(deployment.plan.routing, model.moe.experts, model.moe.experts_per_token);
      experts_per_rank_ = model.moe.experts / ep_;
      rank_rows_per_token_.assign(static_cast<std::size_t>(ep_), 0.0);
      for (std::size_t e = 0; e < picked.size(); ++e) {
        rank_rows_per_token_[e / static_cast<std::size_t>(experts_per_rank_)] += picked[e];
        expert_log_miss_.push_back(std::log1p(-picked[e]));
      }
      const auto hottest = std::max_element(rank_rows_per_token_.begin(), rank_rows_per_token_.end());
      hottest_rank_ = static_cast<std::size_t>(hottest - rank_rows_per_token_.begin());
      hottest_rank_share_ = *hottest / moe_topk_;
    }
  }
  const int64_t moe_dense_layers = model.is_moe() ? std::min(model.moe.dense_layers, model.layers) : model.layers;
  // Each expert is tensor-parallel over the GPUs of its EP rank (tp at ep = 1).
  const double expert_tp = static_cast<double>(stage_gpus_ / ep_);
  const double expert_ffn = static_cast<double>(model.moe.expert_intermediate) / expert_tp;
  // Shared experts run on every attention group's own tokens, tensor-parallel over its tp GPUs.
  const double shared_ffn = static_cast<double>(model.moe.shared_experts) *
                            (static_cast<double>(model.moe.expert_intermediate) / tp);

  auto gemm_provenance = [&](double n, double k, bool low) {
    if (low && !low_curve.measured) return Provenance::kDatasheet;
    if (!calibrated) return Provenance::kDatasheet;
    for (const auto& [mn, mk] : (low ? low_curve.measured_shapes : eff_.gemm_measured_shapes)) {
      if (static_cast<double>(mn) == n && static_cast<double>(mk) == k) return Provenance::kMeasured;
    }
    return Provenance::kInterpolated;
  };
  // Appends `kernels` x `instances` to `ops`; of the layer instances, `dense_layers` are dense and
  // `moe_layers` MoE (their FFN GEMMs become expert GEMMs).
  auto add_kernels = [&](std::vector<Op>& ops_out, const std::vector<KernelSpec>& kernels, double instances,
                         double dense_layers, double moe_layers) {
    for (const KernelSpec& kernel : kernels) {
      // MoE-only kernels (routing, gather / scatter) run in the MoE layers alone.
      const bool moe_only = kernel.layers == LayerScope::kMoe;
      if (moe_only && moe_layers <= 0.0) continue;
      Op op;
      op.name = kernel.name;
      op.rows = kernel.rows;
      op.instances = moe_only ? moe_layers : instances;
      op.launches = kernel.launches;
      switch (kernel.kind) {
        case KernelKind::kElementwise: {
          const RowBytes& b = kernel.bytes_per_row;
          op.op_class = OpClass::kElementwise;
          auto row_bytes = [&](double ffn_width) {
            return b.hidden * hidden_ + b.q * q_width + b.kv * kv_width + b.ffn * ffn_width + b.vocab * vocab +
                   b.experts * moe_experts_ + b.constant;
          };
          op.bytes_per_row = row_bytes(ffn);
          op.provenance = calibrated ? Provenance::kInterpolated : Provenance::kDatasheet;
          if (kernel.per_expert && moe_layers > 0.0) {
            // Dense layers run it once over every row; MoE layers once per expert over its rows,
            // at the expert's width.
            if (!moe_only && dense_layers > 0.0) {
              Op dense = op;
              dense.instances = dense_layers;
              ops_out.push_back(dense);
            }
            op.instances = moe_layers;
            op.per_expert = true;
            op.bytes_per_row = row_bytes(expert_ffn);
          }
          ops_out.push_back(op);
          break;
        }
        case KernelKind::kAttention:
          op.op_class = OpClass::kAttention;
          op.launches = attention_launches_;
          op.provenance = attention_provenance_;
          ops_out.push_back(op);
          break;
        case KernelKind::kGemm: {
          op.op_class = OpClass::kGemm;
          const bool moe_weight =
              model.is_moe() && (kernel.weight == GemmWeight::kGateUp || kernel.weight == GemmWeight::kDown);
          switch (kernel.weight) {
            case GemmWeight::kQkv: op.gemm_n = qkv_n; op.gemm_k = hidden_; break;
            case GemmWeight::kO: op.gemm_n = hidden_; op.gemm_k = o_k; break;
            case GemmWeight::kGateUp: op.gemm_n = 2.0 * ffn; op.gemm_k = hidden_; break;
            case GemmWeight::kDown: op.gemm_n = hidden_; op.gemm_k = ffn; break;
            case GemmWeight::kLmHead: op.gemm_n = vocab; op.gemm_k = hidden_; break;
            case GemmWeight::kRouter: op.gemm_n = moe_experts_; op.gemm_k = hidden_; break;
          }
          // The LM head and the MoE router are never quantised (16-bit weights and compute).
          const bool lm_head = kernel.weight == GemmWeight::kLmHead || kernel.weight == GemmWeight::kRouter;
          op.low_precision = low_precision && !lm_head;
          op.weight_bpp = lm_head ? lm_head_bpp : weight_bpp_;
          op.dtype = lm_head ? lm_head_dtype : layer_dtype;
          op.provenance = gemm_provenance(op.gemm_n, op.gemm_k, op.low_precision);
          const bool up = kernel.weight == GemmWeight::kGateUp;
          // An FP8 / FP4 GEMM's input is cast from bf16 first: one elementwise kernel reading 2 and
          // writing act_bytes_ bytes per input element (the reference engine's FP8 variant; engines
          // that fuse the cast into the previous kernel pay about the same bytes).
          auto add_cast = [&](double cast_instances, double width) {
            if (!op.low_precision || cast_instances <= 0.0) return;
            Op cast;
            cast.name = std::string(layer_dtype) + "_cast";
            cast.op_class = OpClass::kElementwise;
            cast.rows = op.rows;
            cast.instances = cast_instances;
            cast.launches = 1;
            cast.bytes_per_row = (kActivationBytes + act_bytes_) * width;
            cast.provenance = op.provenance;
            ops_out.push_back(cast);
          };
          // Expert parallelism: tokens travel to the ranks holding their experts before the expert
          // gate/up GEMM and back after the down GEMM (tokens x top-k x hidden bf16 each way).
          const bool exchange = moe_weight && expert_all_to_all_ && moe_layers > 0.0;
          auto add_all_to_all = [&](const char* name) {
            Op exchange_op;
            exchange_op.name = name;
            exchange_op.op_class = OpClass::kAllToAll;
            exchange_op.instances = moe_layers;
            exchange_op.launches = 1;
            exchange_op.bytes_per_row = kActivationBytes * hidden_ * moe_topk_;  // per token of the batch
            exchange_op.provenance = Provenance::kInterpolated;
            ops_out.push_back(exchange_op);
          };
          if (moe_weight) {
            if (dense_layers > 0.0) {
              Op dense = op;
              dense.instances = dense_layers;
              add_cast(dense_layers, op.gemm_k);
              ops_out.push_back(dense);
            }
            op.instances = moe_layers;
            op.expert_fraction = 1.0;
            op.gemm_n = up ? 2.0 * expert_ffn : hidden_;
            op.gemm_k = up ? hidden_ : expert_ffn;
            moe_dense_flops_per_row_ = shared_ffn;  // shared-expert width (per GPU)
            op.provenance = (op.low_precision && !low_curve.measured) || !calibrated ? Provenance::kDatasheet
                                                                                      : Provenance::kInterpolated;
          }
          if (moe_weight) {
            // Per token row of the attention group: the token rows once before the up GEMM (hidden wide);
            // before the down GEMM, the rank's expert rows (balanced: top-k x groups / ep per row) at the
            // expert width, and the shared experts' rows.
            add_cast(op.instances, up ? hidden_
                                      : expert_ffn * moe_topk_ * static_cast<double>(attention_groups_) /
                                                static_cast<double>(ep_) +
                                            shared_ffn);
          } else {
            add_cast(op.instances, op.gemm_k);
          }
          if (exchange && up) add_all_to_all("moe_dispatch");
          if (op.instances > 0.0) ops_out.push_back(op);
          if (exchange && !up) add_all_to_all("moe_combine");
          // The combine replaces the all-reduce after the expert down projection (dense layers keep it).
          const double reduce_instances = exchange && !up ? dense_layers : instances;
          if (tp_ > 1 && (kernel.weight == GemmWeight::kO || kernel.weight == GemmWeight::kDown) &&
              reduce_instances > 0.0) {
            Op reduce;
            reduce.name = "all_reduce";
            reduce.op_class = OpClass::kAllReduce;
            reduce.instances = reduce_instances;
            reduce.launches = 1;
            reduce.bytes_per_row = kActivationBytes * hidden_;
            reduce.provenance = Provenance::kInterpolated;
            ops_out.push_back(reduce);
          }
          break;
        }
      }
    }
  };
  // Stage k holds layers [first, first + count) as vLLM splits them (the remainder goes to the
  // stages before the last, which also holds the LM head); stage 0 runs the prologue. Stages of the
  // same composition share one op list.
  const std::vector<int64_t> layer_counts = pipeline_layer_counts(model.layers, pp_);
  int64_t first_layer = 0;
  std::map<std::tuple<int64_t, int64_t, bool, bool>, int> types;
  for (int64_t k = 0; k < pp_; ++k) {
    const int64_t count = layer_counts[static_cast<std::size_t>(k)];
    const int64_t dense = std::clamp<int64_t>(moe_dense_layers - first_layer, 0, count);
    const bool first = k == 0, last = k == pp_ - 1;
    first_layer += count;
    const auto key = std::make_tuple(count, dense, first, last);
    auto found = types.find(key);
    if (found == types.end()) {
      std::vector<Op> ops;
      const auto layers = static_cast<double>(count);
      if (model.vocab > 0 && first) add_kernels(ops, engine.prologue, 1.0, 0.0, 0.0);
      add_kernels(ops, engine.layer, layers, static_cast<double>(dense), layers - static_cast<double>(dense));
      if (model.vocab > 0 && last) add_kernels(ops, engine.epilogue, 1.0, 0.0, 0.0);
      found = types.emplace(key, static_cast<int>(stage_ops_.size())).first;
      stage_ops_.push_back(std::move(ops));
    }
    stage_type_.push_back(found->second);
  }
  // Boundary k -> k + 1 crosses nodes when the last GPU of stage k and the first of stage k + 1
  // sit on different nodes (stages are placed in order, max(tp, ep) GPUs each).
  const int64_t per_node = std::max<int64_t>(1, deployment.node.gpus_per_node);
  // A group larger than a node fills whole nodes (the config reader refuses the rest).
  tp_nodes_ = tp_ > per_node ? tp_ / per_node : 1;
  ep_nodes_ = ep_ > per_node ? ep_ / per_node : 1;
  for (int64_t k = 0; k + 1 < pp_; ++k) {
    const int64_t last_gpu = (k + 1) * stage_gpus_ - 1;
    send_across_nodes_.push_back(last_gpu / per_node != (last_gpu + 1) / per_node);
  }

  for (const std::vector<Op>& ops : stage_ops_) {
    for (const Op& op : ops) {
      per_expert_ops_ = per_expert_ops_ || op.per_expert || (sequential_experts_ && op.expert_fraction > 0.0);
    }
  }
  graph_prefill_ = engine.graph_prefill;
  graph_decode_ = engine.graph_decode;
  launch_s_ = eff_.eager_launch_s > 0.0 ? eff_.eager_launch_s : deployment.node.cpu.launch_s;
  iteration_overhead_s_ = engine.host_iteration_overhead ? deployment.node.cpu.iteration_overhead_s : 0.0;
  sequence_overhead_s_ = engine.host_iteration_overhead ? deployment.node.cpu.sequence_overhead_s : 0.0;
  if (deployment.collectives.empty()) {
    collectives_ = std::make_unique<AlphaBetaCollectives>(alpha_beta_for(deployment.node.fabric));
  } else {
    const auto* entry = Registry<CollectiveModel>::instance().find(deployment.collectives);
    SERVESIM_CHECK(entry != nullptr, "collective model chosen by the config reader");
    collectives_ = entry->factory(deployment.collectives_params, deployment.node.fabric);
  }
  power_ = std::make_unique<ActivityPowerModel>(activity_power_for(deployment.node.gpu));
}

double OpLevelExecutionModel::moe_seconds(const Op& op, double rows, double shared_rows, double* flops,
                                          double* bytes, Bound* bound) const {
  // Routed experts on one EP rank: its expert rows and the distinct experts it holds that the batch
  // hits (expected values), each streaming its weight shard once. Shared experts run as a dense GEMM
  // over the attention group's rows on every GPU. The slowest rank sets the time.
  const GpuEfficiency& e = op.low_precision ? eff_low_ : eff_;
  const double in_bytes = op.low_precision ? act_bytes_ : kActivationBytes;
  double shared_compute = 0.0, shared_memory = 0.0, shared_flops = 0.0, shared_bytes = 0.0;
  if (moe_dense_flops_per_row_ > 0.0) {
    const double width = moe_dense_flops_per_row_;
    const bool up = op.gemm_k == hidden_;
    const GemmCost shared = gemm_cost(e, sms_, shared_rows, up ? 2.0 * width : hidden_, up ? hidden_ : width,
                                      weight_bpp_, in_bytes);
    shared_compute = shared.compute_s - e.gemm_latency_s;
    shared_memory = shared.memory_s - e.gemm_memory_latency_s;
    shared_flops = shared.flops;
    shared_bytes = shared.bytes;
  }
  double compute = 0.0, memory = 0.0, total_flops = 0.0, total_bytes = 0.0;
  bool first = true;
  auto rank_cost = [&](double expert_rows, double active) {
    const double f = 2.0 * expert_rows * op.gemm_n * op.gemm_k;
    const double activations = in_bytes == kActivationBytes
                                   ? kActivationBytes * expert_rows * (op.gemm_n + op.gemm_k)
                                   : in_bytes * expert_rows * op.gemm_k + kActivationBytes * expert_rows * op.gemm_n;
    const double b = weight_bpp_ * active * op.gemm_n * op.gemm_k + activations;
    double c = e.gemm_latency_s + f / e.gemm_flops_per_s;
    double m = e.gemm_memory_latency_s + b / e.gemm_bytes_per_s;
    if (sequential_experts_) {
      // One GEMM per expert in turn, each over its share of the rank's rows (balanced within the
      // rank): every expert pays the fixed terms, tile occupancy and per-kernel floor on its own.
      c = 0.0;
      m = 0.0;
      if (active > 0.0) {
        const GemmCost one = gemm_cost(e, sms_, expert_rows / active, op.gemm_n, op.gemm_k, weight_bpp_, in_bytes);
        c = active * std::max(one.compute_s, e.graph_kernel_s);
        m = active * one.memory_s;
      }
      if (moe_dense_flops_per_row_ > 0.0) {  // the shared experts: a GEMM of their own
        c += shared_compute + e.gemm_latency_s;
        m += shared_memory + e.gemm_memory_latency_s;
      }
    } else if (moe_dense_flops_per_row_ > 0.0) {
      c += shared_compute;
      m += shared_memory;
    }
    if (first || std::max(c, m) > std::max(compute, memory)) {
      first = false;
      compute = c;
      memory = m;
      total_flops = f + shared_flops;
      total_bytes = b + shared_bytes;
    }
  };
  // Balanced, every rank is alike: one; skewed, each rank.
  const std::size_t ranks = rank_rows_per_token_.empty() ? 1 : rank_rows_per_token_.size();
  for (std::size_t r = 0; r < ranks; ++r) {
    const ExpertLoad load = rank_load(r, rows);
    rank_cost(load.rows, load.active);
  }
  *flops = total_flops;
  *bytes = total_bytes;
  *bound = compute >= memory ? Bound::kCompute : Bound::kMemory;
  return std::max(e.graph_kernel_s, std::max(compute, memory));
}

OpLevelExecutionModel::ExpertLoad OpLevelExecutionModel::rank_load(std::size_t rank, double tokens) const {
  ExpertLoad load;
  if (moe_experts_ <= 0.0 || tokens <= 0.0) return load;
  if (rank_rows_per_token_.empty()) {
    // Balanced: every rank takes tokens x top-k / ep expert rows; each of its E / ep experts is hit
    // with probability 1 - (1 - k / E)^tokens.
    const double ep = static_cast<double>(ep_);
    load.rows = tokens * moe_topk_ / ep;
    load.active = (moe_experts_ / ep) * (1.0 - std::pow(1.0 - moe_topk_ / moe_experts_, tokens));
    return load;
  }
  load.rows = tokens * rank_rows_per_token_[rank];
  const std::size_t begin = rank * static_cast<std::size_t>(experts_per_rank_);
  for (std::size_t x = begin; x < begin + static_cast<std::size_t>(experts_per_rank_); ++x) {
    load.active += 1.0 - std::exp(tokens * expert_log_miss_[x]);
  }
  return load;
}

int64_t OpLevelExecutionModel::op_launches(const Op& op, const ExpertLoad& hottest) const {
  const bool per_expert = op.per_expert || (sequential_experts_ && op.expert_fraction > 0.0);
  if (!per_expert) return op.launches;
  return op.launches * static_cast<int64_t>(std::ceil(hottest.active - 1e-9));
}

double OpLevelExecutionModel::op_seconds(const Op& op, double tokens, double sampled, double all_tokens, double share,
                                         const ExpertLoad& hottest, double* flops, double* bytes, Bound* bound,
                                         double* clocked) const {
  const double rows = op.rows == RowScope::kTokens ? tokens : sampled;
  *flops = 0.0;
  *bytes = 0.0;
  *clocked = 0.0;
  if (rows <= 0.0) return 0.0;
  switch (op.op_class) {
    case OpClass::kElementwise: {
      double kernels = static_cast<double>(op.launches);
      double kernel_rows = rows;
      if (op.per_expert) {
        // Once per expert the rank's rows hit, over those rows (the busiest rank sets the time).
        kernels *= hottest.active;
        kernel_rows = hottest.rows;
      }
      *bytes = kernel_rows * op.bytes_per_row;
      // Each kernel pays the fixed launch-to-drain time of a graph-replayed kernel
      // (the tiny-kernel measurement) and then streams its bytes: the two add.
      const double fixed = kernels * eff_.graph_kernel_s;
      const double stream = *bytes / eff_.elementwise_bytes_per_s;
      *bound = stream > fixed ? Bound::kMemory : Bound::kLatency;
      *clocked = fixed;
      return fixed + stream;
    }
    case OpClass::kGemm: {
      // A compute- or latency-bound GEMM runs at the SM clock; a memory-bound one at the HBM's.
      if (op.expert_fraction > 0.0) {
        const double t = moe_seconds(op, all_tokens, rows, flops, bytes, bound);
        *clocked = *bound == Bound::kMemory ? 0.0 : t;
        return t;
      }
      const GemmCost cost = op.low_precision ? gemm_cost(eff_low_, sms_, rows, op.gemm_n, op.gemm_k, op.weight_bpp, act_bytes_)
                                             : gemm_cost(eff_, sms_, rows, op.gemm_n, op.gemm_k, op.weight_bpp);
      *flops = cost.flops;
      *bytes = cost.bytes;
      *bound = cost.bound;
      *clocked = cost.bound == Bound::kMemory ? 0.0 : cost.seconds;
      return cost.seconds;
    }
    case OpClass::kAllReduce:
      *bound = Bound::kCommunication;
      return collectives_->seconds(Collective::kAllReduce, rows * op.bytes_per_row, tp_, tp_nodes_);
    case OpClass::kAllToAll: {
      *bound = Bound::kCommunication;
      // Bytes per GPU: the larger of what the most-loaded sender holds (its attention group's share
      // of the batch, split over the group's tp GPUs) and what the most-loaded rank receives.
      const double fraction = std::max(hottest_rank_share_, share / static_cast<double>(tp_));
      return collectives_->seconds(Collective::kAllToAll, all_tokens * op.bytes_per_row * fraction, ep_, ep_nodes_);
    }    case OpClass::kAttention:
    case OpClass::kRepeatKv:
      break;  // costed per segment by evaluate()
  }
  return 0.0;
}

void OpLevelExecutionModel::evaluate(const std::vector<Op>& stage_ops, const BatchShape& batch, Totals* totals,
                                     std::vector<OpCost>* ops, std::vector<CollectiveCall>* calls) const {
  double tokens = 0.0, sampled = 0.0;
  for (const Segment& s : batch.segments) {
    tokens += static_cast<double>(s.sequences * s.new_tokens);
    sampled += static_cast<double>(s.sequences);
  }
  // Attention data parallelism: a GPU's attention and dense kernels see its group's share of the batch;
  // the routed experts and their all-to-alls see all of it.
  const double all_tokens = tokens;
  const double share = group_share(batch);
  // The routed experts' load on the busiest EP rank (per-expert kernels and looped expert GEMMs).
  const ExpertLoad hottest = per_expert_ops_ ? rank_load(hottest_rank_, all_tokens) : ExpertLoad{};
  if (attention_groups_ > 1) {
    tokens *= share;
    sampled *= share;
  }
  for (const Op& op : stage_ops) {
    double seconds = 0.0, flops = 0.0, bytes = 0.0, clocked = 0.0;
    int64_t launches = 0;
    Bound bound = Bound::kLatency;
    double repeat_s = 0.0, repeat_bytes = 0.0;
    int64_t repeat_launches = 0;
    if (op.op_class == OpClass::kAttention) {
      double compute_like = 0.0, memory_like = 0.0;
      // One decode kernel serves every decode sequence of the batch: its occupancy is theirs together
      // (so an aggregated decode segment still costs the same as its parts).
      double decode_sequences = 0.0;
      for (const Segment& s : batch.segments) {
        if (s.sequences > 0 && s.new_tokens == 1) decode_sequences += static_cast<double>(s.sequences);
      }
      if (attention_groups_ > 1) decode_sequences *= share;
      const double decode_items = decode_sequences * decode_items_per_sequence_;
      for (const Segment& s : batch.segments) {
        if (s.sequences <= 0 || s.new_tokens <= 0) continue;
        const double b = attention_groups_ > 1 ? static_cast<double>(s.sequences) * share
                                               : static_cast<double>(s.sequences);
        double t = 0.0;
        if (s.new_tokens == 1) {
          const double ctx = static_cast<double>(s.context_tokens + 1);
          const double kv = b * ctx * kv_bytes_per_token_layer_;
          t = eff_.attention_decode_latency_s + decode_attention_stream_s(eff_, b, kv, decode_items);
          // Fixed and per-sequence work runs at the SM clock; streaming the KV at the HBM's.
          clocked += t <= eff_.graph_kernel_s ? eff_.graph_kernel_s
                                              : eff_.attention_decode_latency_s + b * eff_.attention_decode_sequence_s;
          bytes += kv;
          flops += b * ctx * attn_decode_flops_per_token_;
          memory_like += t;
        } else {
          const double f = b * causal_tile_pairs(s.new_tokens, s.context_tokens) * attn_flops_per_tile_pair_;
          t = eff_.attention_prefill_latency_s + f / eff_.attention_prefill_flops_per_s;
          clocked += std::max(t, eff_.graph_kernel_s);
          flops += f;
          compute_like += t;
          if (repeat_kv_launches_ > 0) {
            const double rb = b * static_cast<double>(s.new_tokens + s.context_tokens) * repeat_kv_bytes_per_token_;
            repeat_bytes += rb;
            repeat_s += static_cast<double>(repeat_kv_launches_) * eff_.graph_kernel_s + rb / eff_.elementwise_bytes_per_s;
            clocked += static_cast<double>(repeat_kv_launches_) * eff_.graph_kernel_s;
            repeat_launches += repeat_kv_launches_;
          }
        }
        seconds += std::max(t, eff_.graph_kernel_s);
        launches += op.launches;
      }
      bound = compute_like >= memory_like ? Bound::kCompute : Bound::kMemory;
    } else {
      seconds = op_seconds(op, tokens, sampled, all_tokens, share, hottest, &flops, &bytes, &bound, &clocked);
      if (seconds > 0.0) launches = op_launches(op, hottest);
    }
    seconds *= op.instances;
    clocked *= op.instances;
    flops *= op.instances;
    bytes = (bytes + repeat_bytes) * op.instances;
    repeat_s *= op.instances;
    const bool collective = op.op_class == OpClass::kAllReduce || op.op_class == OpClass::kAllToAll;
    // NCCL kernels are captured in the graph too, but their host cost is counted like any launch.
    const int64_t total_launches = static_cast<int64_t>(op.instances) * (launches + repeat_launches);
    // The power model charges FLOPs at the bf16 peak's energy: a low-precision FLOP costs the
    // bf16 / its dtype's dense peak ratio of one (the same TDP at twice the rate).
    totals->flops += op.low_precision ? flops * low_flop_energy_ : flops;
    totals->bytes += bytes;
    totals->launches += total_launches;
    if (collective) {
      totals->comm_s += seconds;
      if (calls != nullptr && seconds > 0.0) {
        // What op_seconds priced: the same bytes per GPU, one collective per instance.
        const bool all_reduce = op.op_class == OpClass::kAllReduce;
        const double rows = op.rows == RowScope::kTokens ? tokens : sampled;
        const double fraction = std::max(hottest_rank_share_, share / static_cast<double>(tp_));
        calls->push_back(CollectiveCall{all_reduce ? Collective::kAllReduce : Collective::kAllToAll,
                                        all_reduce ? rows * op.bytes_per_row : all_tokens * op.bytes_per_row * fraction,
                                        std::llround(op.instances), all_reduce ? tp_ : ep_, seconds,
                                        all_reduce ? tp_nodes_ : ep_nodes_});
      }
    } else {
      totals->compute_s += seconds + repeat_s;
      totals->clocked_s += clocked;
    }
    if (ops != nullptr) {
      if (seconds > 0.0) {
        auto found = std::find_if(ops->begin(), ops->end(), [&](const OpCost& c) { return c.name == op.name; });
        if (found == ops->end()) {
          ops->push_back(OpCost{op.name, 0, 0.0, bound, op.provenance, op.dtype != nullptr ? op.dtype : ""});
          found = ops->end() - 1;
        }
        found->count += static_cast<int64_t>(op.instances) * launches;
        if (seconds > found->seconds) found->bound = bound;
        found->seconds += seconds;
        found->provenance = weaker(found->provenance, op.provenance);
      }
      if (repeat_s > 0.0) {
        ops->push_back(OpCost{"repeat_kv", static_cast<int64_t>(op.instances) * repeat_launches, repeat_s,
                              Bound::kMemory, op.provenance, ""});
      }
    }
  }
  totals->gpu_s = totals->compute_s + totals->comm_s;
}

double OpLevelExecutionModel::launch_host_s(const BatchShape& batch, const Totals& totals) const {
  bool prefill = false;
  for (const Segment& s : batch.segments) prefill = prefill || s.new_tokens > 1;
  const bool graph = prefill ? graph_prefill_ : graph_decode_;
  return graph ? 0.0 : static_cast<double>(totals.launches) * launch_s_;
}

double OpLevelExecutionModel::host_overhead_s(const BatchShape& batch) const {
  if (sequence_overhead_s_ == 0.0) return iteration_overhead_s_;
  int64_t sequences = 0;
  for (const Segment& s : batch.segments) sequences += s.sequences;
  return iteration_overhead_s_ + sequence_overhead_s_ * static_cast<double>(sequences);
}

double OpLevelExecutionModel::group_share(const BatchShape& batch) const {
  if (attention_groups_ == 1) return 1.0;
  double sequences = 0.0;
  for (const Segment& s : batch.segments) sequences += static_cast<double>(s.sequences);
  if (sequences <= 0.0) return 1.0;
  // Whole sequences, as evenly as their count allows: the busiest group holds ceil(B / a) of them.
  return std::ceil(sequences / static_cast<double>(attention_groups_)) / sequences;
}

double OpLevelExecutionModel::send_bytes(const BatchShape& batch) const {
  double tokens = 0.0;
  for (const Segment& s : batch.segments) tokens += static_cast<double>(s.sequences * s.new_tokens);
  // Each attention group sends its own sequences' activations to the next stage's matching group.
  if (attention_groups_ > 1) tokens *= group_share(batch);
  return tokens * kPipelineSendBytesPerRow * hidden_;
}

double OpLevelExecutionModel::send_seconds(const BatchShape& batch, std::size_t boundary) const {
  const double bytes = send_bytes(batch);
  const Collective kind = send_across_nodes_[boundary] ? Collective::kSendRecvAcrossNodes : Collective::kSendRecv;
  return bytes > 0.0 ? collectives_->seconds(kind, bytes, 2) : 0.0;
}

IterationPrediction OpLevelExecutionModel::predict(const BatchShape& batch) const {
  IterationPrediction out;
  int64_t launches = 0;
  double launch_host_s = 0.0;
  double clock_slowdown_s = 0.0;
  const double overhead_s = host_overhead_s(batch);
  for (std::size_t k = 0; k < stage_type_.size(); ++k) {
    Totals totals;
    evaluate(stage_ops_[static_cast<std::size_t>(stage_type_[k])], batch, &totals, &out.ops);
    const double host_s = this->launch_host_s(batch, totals);
    // Without PP the host's iteration overhead is part of the one stage; with PP it precedes stage 0
    // (the engine prepares a batch while the stages run others) and is added below.
    const double boost_s = std::max(totals.gpu_s, host_s) + (k == 0 && pp_ == 1 ? overhead_s : 0.0);
    const GpuActivity activity = power_->at_power_limit(boost_activity(totals, boost_s));
    const double slowdown_s = activity.seconds - boost_s;
    const double stage_s = activity.seconds;
    out.compute_s += totals.compute_s + slowdown_s;
    out.communication_s += totals.comm_s;
    out.iteration_s += stage_s;
    out.stage_s = std::max(out.stage_s, stage_s);
    out.clock_fraction = std::min(out.clock_fraction, activity.clock_fraction);
    clock_slowdown_s += slowdown_s;
    launch_host_s += host_s;
    launches += totals.launches;
    out.energy_j += power_->joules(activity) * static_cast<double>(stage_gpus_);
  }
  if (clock_slowdown_s > 0.0) {
    // The ops above are at the boost clock; this is what the power-limited clock adds to them.
    out.ops.push_back(OpCost{"power_limited_clock", 0, clock_slowdown_s, Bound::kCompute, Provenance::kInterpolated, ""});
  }
  double send_s = 0.0;
  for (std::size_t k = 0; k < send_across_nodes_.size(); ++k) send_s += send_seconds(batch, k);
  if (send_s > 0.0) {
    out.ops.push_back(OpCost{"pipeline_send_recv", static_cast<int64_t>(send_across_nodes_.size()), send_s,
                             Bound::kCommunication, Provenance::kInterpolated, ""});
  }
  out.communication_s += send_s;
  out.iteration_s += send_s;
  if (pp_ > 1) out.iteration_s += overhead_s;
  out.host_s = launch_host_s + overhead_s;
  if (launch_host_s > 0.0) {
    out.ops.push_back(OpCost{"host_launch", launches, launch_host_s, Bound::kHost, Provenance::kMeasured, ""});
  }
  if (iteration_overhead_s_ > 0.0) {
    out.ops.push_back(OpCost{"host_iteration_overhead", 1, iteration_overhead_s_, Bound::kHost, Provenance::kMeasured, ""});
  }
  if (sequence_overhead_s_ > 0.0) {
    // The per-sequence part (count: sequences in the batch), fitted to Vidur's vLLM CPU profile.
    int64_t sequences = 0;
    for (const Segment& s : batch.segments) sequences += s.sequences;
    out.ops.push_back(OpCost{"host_sequence_overhead", sequences, sequence_overhead_s_ * static_cast<double>(sequences),
                             Bound::kHost, Provenance::kMeasured, ""});
  }
  out.provenance = Provenance::kMeasured;
  for (const OpCost& op : out.ops) out.provenance = weaker(out.provenance, op.provenance);
  return out;
}

IterationTiming OpLevelExecutionModel::timing(const BatchShape& batch) {
  if (pp_ > 1) return stage_timing(batch, scratch_);
  const GpuActivity a = power_->at_power_limit(activity(batch));
  return IterationTiming{a.seconds, power_->joules(a) * static_cast<double>(gpus_), a.clock_fraction};
}

IterationTiming OpLevelExecutionModel::stage_timing(const BatchShape& batch, StageTimes& stages) {
  if (pp_ == 1) {
    const IterationTiming t = timing(batch);
    stages.host_s = 0.0;
    stages.stage_s.assign(1, t.iteration_s);
    stages.send_s.clear();
    stages.send_bytes.clear();
    return t;
  }
  // Each distinct stage composition is costed once; each stage's GPUs run at their own clock.
  type_activity_.resize(stage_ops_.size());
  for (std::size_t t = 0; t < stage_ops_.size(); ++t) {
    Totals totals;
    evaluate(stage_ops_[t], batch, &totals, nullptr);
    type_activity_[t] =
        power_->at_power_limit(boost_activity(totals, std::max(totals.gpu_s, launch_host_s(batch, totals))));
  }
  IterationTiming out;
  out.clock_fraction = 1.0;
  stages.host_s = host_overhead_s(batch);
  out.iteration_s = stages.host_s;
  stages.stage_s.resize(stage_type_.size());
  for (std::size_t k = 0; k < stage_type_.size(); ++k) {
    const GpuActivity& activity = type_activity_[static_cast<std::size_t>(stage_type_[k])];
    stages.stage_s[k] = activity.seconds;
    out.iteration_s += activity.seconds;
    out.energy_j += power_->joules(activity) * static_cast<double>(stage_gpus_);
    out.clock_fraction = std::min(out.clock_fraction, activity.clock_fraction);
  }
  stages.send_s.resize(send_across_nodes_.size());
  stages.send_bytes.assign(send_across_nodes_.size(), send_bytes(batch));
  for (std::size_t k = 0; k < send_across_nodes_.size(); ++k) {
    stages.send_s[k] = send_seconds(batch, k);
    out.iteration_s += stages.send_s[k];
  }
  return out;
}

GpuActivity OpLevelExecutionModel::boost_activity(const Totals& totals, double seconds) {
  return GpuActivity{seconds, totals.gpu_s, totals.flops, totals.bytes, totals.clocked_s, 1.0, 1.0};
}

GpuActivity OpLevelExecutionModel::activity(const BatchShape& batch) const {
  Totals totals;
  evaluate(stage_ops_.front(), batch, &totals, nullptr);
  return boost_activity(totals, std::max(totals.gpu_s, launch_host_s(batch, totals)) + host_overhead_s(batch));
}

void OpLevelExecutionModel::communication(const BatchShape& batch, std::size_t stage,
                                          std::vector<CollectiveCall>& calls) const {
  calls.clear();
  Totals totals;
  evaluate(stage_ops_.at(stage), batch, &totals, nullptr, &calls);
}

int64_t OpLevelExecutionModel::launches(const BatchShape& batch) const {
  Totals totals;
  evaluate(stage_ops_.front(), batch, &totals, nullptr);
  return totals.launches;
}

std::vector<int64_t> pipeline_layer_counts(int64_t layers, int64_t stages) {
  std::vector<int64_t> counts(static_cast<std::size_t>(stages), layers / stages);
  // vLLM's get_pp_indices: the remainder goes to the stages before the last, from the back.
  const int64_t remainder = layers % stages;
  for (int64_t i = 2; i < remainder + 2; ++i) ++counts[static_cast<std::size_t>(stages - i)];
  return counts;
}

const char* bound_name(Bound bound) {
  switch (bound) {
    case Bound::kCompute: return "compute";
    case Bound::kMemory: return "memory";
    case Bound::kLatency: return "latency";
    case Bound::kCommunication: return "communication";
    case Bound::kHost: return "host";
  }
  return "unknown";
}

const char* provenance_name(Provenance provenance) {
  switch (provenance) {
    case Provenance::kMeasured: return "measured";
    case Provenance::kInterpolated: return "interpolated";
    case Provenance::kDatasheet: return "datasheet";
  }
  return "unknown";
}

std::unique_ptr<ExecutionModel> make_execution_model(const Deployment& deployment) {
  return std::make_unique<OpLevelExecutionModel>(deployment);
}

SERVESIM_REGISTER(ExecutionModel, "op-level",
                  "per-kernel roofline with fitted efficiency curves, CUDA graph vs eager host launches, "
                  "alpha-beta collectives, activity power model",
                  ParamSpecs{}, [](const ParamValues&, const Deployment& deployment) {
                    return make_execution_model(deployment);
                  });

}  // namespace servesim

#pragma once
// Contract: the op-level execution model. At construction it turns the
// deployment (GPU efficiency curves, model shapes sharded by the plan, engine
// kernel list, host and fabric) into per-op coefficients; timing() then costs a
// batch with arithmetic only (no allocation, no strings): O(ops + segments).
// Time of one kernel: GEMM = latency + max(FLOPs of whole tiles / achieved rate,
// bytes / achieved bandwidth); elementwise = launches x graph kernel time +
// bytes / copy bandwidth; prefill attention = latency + causal-tile FLOPs /
// rate; decode attention = latency + sequences x per-sequence time + KV bytes /
// (rate x occupancy of the batch's decode sequences x KV heads) (linear in context
// at a given batch, so one aggregated decode segment costs the same as its parts); TP all-reduces and PP
// send/recv from the collective model. Iterations replayed from a CUDA graph
// cost the GPU time; eager iterations cost max(GPU time, host launches).
// Pipeline plans are costed stage by stage (each stage's own layers, stage 0
// the prologue, the last stage the LM head; each GPU launches its own
// kernels), with a send of the hidden states and the residual between stages
// (across nodes where the stage boundary is) and the host's iteration
// overhead before stage 0: iteration_s = overhead + sum of stages + sends, where
// overhead = the CPU's iteration_overhead + sequence_overhead x sequences in the batch. Energy from the power model, all GPUs
// of the plan (each stage's GPUs over their stage).

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/comm/collective_model.h"
#include "models/energy/power_model.h"
#include "models/execution/deployment.h"

namespace servesim {

/// Per-GPU achieved rates used by the cost formulas (from GpuEfficiency, or
/// datasheet x default fractions).
GpuEfficiency effective_efficiency(const GpuSpec& gpu);
/// The efficiency used inside iterations (see the contract above).
GpuEfficiency iteration_efficiency(GpuEfficiency eff);

/// The GEMM curve of a compute dtype on this GPU: bf16 = effective_efficiency's own; FP8 = the
/// calibration's FP8 fit when it has one (measured), else the bf16 curve with its rates scaled by
/// the dense peak ratio (FP8 / bf16; fp16 and FP4 likewise), flagged not measured ("datasheet-derived").
/// compute must have a peak on this GPU (the config reader refuses it otherwise).
GemmCurve gemm_curve(const GpuSpec& gpu, DType compute);
/// `eff` with its GEMM fields replaced by `curve`.
GpuEfficiency with_gemm_curve(GpuEfficiency eff, const GemmCurve& curve);

/// Closed-form GEMM cost on one GPU: y[M,N] = x[M,K] W[N,K]^T.
struct GemmCost {
  double flops = 0.0;        // 2 M N K
  double tile_flops = 0.0;   // FLOPs scaled by 1 / occupancy (what they cost at the peak rate)
  double bytes = 0.0;        // x, W, y once each
  double compute_s = 0.0;
  double memory_s = 0.0;
  double seconds = 0.0;      // latency + max(compute_s, memory_s), at least the graph kernel floor
  Bound bound = Bound::kCompute;
};
/// Inputs x in `input_bytes_per_element` (2 = bf16, 1 = FP8), y always bf16.
GemmCost gemm_cost(const GpuEfficiency& eff, int64_t sms, double m, double n, double k, double weight_bytes_per_param,
                   double input_bytes_per_element = 2.0);

/// GPU time of decode attention streaming `kv_bytes` for `sequences`, inside the one decode kernel
/// whose work items number `parallel_items` (every decode sequence of the batch x KV heads per GPU):
/// sequences x eff.attention_decode_sequence_s + kv_bytes / (bandwidth x occupancy),
/// occupancy = items / (items + eff.attention_decode_half_heads). Latency and graph floor excluded.
double decode_attention_stream_s(const GpuEfficiency& eff, double sequences, double kv_bytes, double parallel_items);

/// FLOPs of whole 128x128 tiles of causal attention for one sequence of `new_tokens`
/// after `context_tokens`, per head-dim unit: 4 x tiles x 128 x 128 (x heads x head_dim by the caller).
double causal_tile_pairs(int64_t new_tokens, int64_t context_tokens);

/// Layers of each pipeline stage as vLLM splits them: layers / stages each, the remainder one more
/// each on the stages before the last (which also holds the LM head), from the back.
std::vector<int64_t> pipeline_layer_counts(int64_t layers, int64_t stages);

class OpLevelExecutionModel : public ExecutionModel {
 public:
  explicit OpLevelExecutionModel(const Deployment& deployment);
  IterationPrediction predict(const BatchShape& batch) const override;
  IterationTiming timing(const BatchShape& batch) override;
  IterationTiming stage_timing(const BatchShape& batch, StageTimes& stages) override;
  void communication(const BatchShape& batch, std::size_t stage, std::vector<CollectiveCall>& calls) const override;
  /// What one GPU does in the iteration (predicted wall time, busy time, FLOPs, HBM bytes):
  /// the input of the power model, also used to fit it. Pipeline plans: a GPU of the first stage.
  GpuActivity activity(const BatchShape& batch) const;
  /// Kernel launches of the iteration (what an eager engine pays host time for); pipeline
  /// plans: the first stage's.
  int64_t launches(const BatchShape& batch) const;

 private:
  enum class OpClass { kElementwise, kGemm, kAttention, kAllReduce, kRepeatKv, kAllToAll };
  struct Op {
    std::string name;
    OpClass op_class = OpClass::kElementwise;
    RowScope rows = RowScope::kTokens;
    double instances = 1.0;      // per stage (layers x per-layer count, or 1)
    int64_t launches = 1;        // per instance
    double bytes_per_row = 0.0;  // elementwise
    double gemm_n = 0.0, gemm_k = 0.0;  // GEMM
    double expert_fraction = 0.0;       // MoE: 0 = dense GEMM
    bool per_expert = false;            // elementwise: once per routed expert of the GPU, over its rows
    bool low_precision = false;         // GEMM on the FP8 / FP4 path (eff_low_, act_bytes_)
    double weight_bpp = 2.0;            // GEMM: bytes per weight (the LM head stays 16-bit)
    const char* dtype = nullptr;        // GEMM: compute dtype, for predict()
    Provenance provenance = Provenance::kDatasheet;
  };
  struct Totals {
    double gpu_s = 0.0, compute_s = 0.0, comm_s = 0.0, flops = 0.0, bytes = 0.0;
    double clocked_s = 0.0;  // of compute_s, what scales with the SM clock (compute-bound kernels, fixed costs)
    int64_t launches = 0;
  };
  // Adds each op's cost to totals; fills `ops` when not null (predict()).
  void evaluate(const std::vector<Op>& stage_ops, const BatchShape& batch, Totals* totals,
                std::vector<OpCost>* ops, std::vector<CollectiveCall>* calls = nullptr) const;
  /// The send from stage `boundary` to the next.
  double send_seconds(const BatchShape& batch, std::size_t boundary) const;
  /// Activation bytes a stage boundary moves for `batch`.
  double send_bytes(const BatchShape& batch) const;
  /// Host time of launching the iteration's kernels one by one (0 when replayed from a CUDA graph).
  double launch_host_s(const BatchShape& batch, const Totals& totals) const;
  /// Host work the engine does serially every iteration: the fixed part plus the per-sequence part
  /// times the batch's sequences (0 for engines that do not pay it).
  double host_overhead_s(const BatchShape& batch) const;
  /// Fraction of the batch's sequences on the most-loaded attention group: ceil(B / a) / B
  /// (1 without attention data parallelism).
  double group_share(const BatchShape& batch) const;
  /// The routed experts' load on one EP rank for `tokens` of the batch: its expert rows and the
  /// expected distinct experts of the rank they hit (balanced routing: every rank alike).
  struct ExpertLoad {
    double rows = 0.0;
    double active = 0.0;
  };
  ExpertLoad rank_load(std::size_t rank, double tokens) const;
  /// `tokens` and `sampled`: the attention group's rows; `all_tokens`: the whole batch's (MoE ops);
  /// `hottest`: rank_load of the rank with the most expert rows (per-expert kernels).
  /// `clocked`: the part of the seconds that scales with the SM clock.
  double op_seconds(const Op& op, double tokens, double sampled, double all_tokens, double share,
                    const ExpertLoad& hottest, double* flops, double* bytes, Bound* bound, double* clocked) const;
  /// A stage's activity at the boost clock (its wall time `seconds`, host overhead included).
  static GpuActivity boost_activity(const Totals& totals, double seconds);
  /// Routed-expert GEMM on the slowest EP rank for `rows` tokens of the batch, plus the shared
  /// experts over `shared_rows` (the attention group's tokens).
  double moe_seconds(const Op& op, double rows, double shared_rows, double* flops, double* bytes, Bound* bound) const;
  /// Kernels one instance of `op` launches (per-expert kernels and sequential expert GEMMs: once
  /// per expert the busiest rank's rows hit, rounded up).
  int64_t op_launches(const Op& op, const ExpertLoad& hottest) const;

  GpuEfficiency eff_;
  GpuEfficiency eff_low_;     // eff_ with the GEMM curve of the low-precision compute dtype
  double act_bytes_ = 2.0;    // GEMM input bytes on the low-precision path
  double low_flop_energy_ = 1.0;  // energy of a low-precision FLOP / a bf16 FLOP's (bf16 / dtype dense peak)
  int64_t sms_ = 0;
  int64_t tp_ = 1, pp_ = 1;
  int64_t stage_gpus_ = 1;        // max(tp, ep)
  int64_t ep_ = 1;
  int64_t tp_nodes_ = 1, ep_nodes_ = 1;  // nodes a TP group / the EP group spans (whole nodes when > 1)
  int64_t attention_groups_ = 1;  // stage_gpus_ / tp_
  double weight_bpp_ = 2.0;
  double hidden_ = 0.0;
  // attention, per GPU
  double attn_flops_per_tile_pair_ = 0.0;   // 4 x 128 x 128 x heads x head_dim per GPU
  double kv_bytes_per_token_layer_ = 0.0;   // read by decode attention, per GPU
  double attn_decode_flops_per_token_ = 0.0;
  double decode_items_per_sequence_ = 1.0;  // decode attention work items per sequence (KV heads per GPU)
  double repeat_kv_bytes_per_token_ = 0.0;  // reference prefill path; 0 = none
  int64_t attention_launches_ = 1;
  int64_t repeat_kv_launches_ = 0;
  Provenance attention_provenance_ = Provenance::kDatasheet;
  // MoE (per GPU)
  double moe_experts_ = 0.0, moe_topk_ = 0.0;
  bool sequential_experts_ = false;       // EngineProfile::moe_experts == kSequential
  bool per_expert_ops_ = false;           // some op runs once per expert hit (needs the busiest rank's load)
  double moe_dense_flops_per_row_ = 0.0;  // shared experts + router, per matrix kind
  bool expert_all_to_all_ = false;        // ep > 1 and ep >= tp: dispatch / combine instead of the all-reduce
  // Skewed routing (empty when balanced: closed form): per EP rank, expected expert rows per token;
  // per expert, log(1 - P(a token picks it)), for the expected distinct experts a batch hits.
  std::vector<double> rank_rows_per_token_;
  std::vector<double> expert_log_miss_;
  int64_t experts_per_rank_ = 0;
  std::size_t hottest_rank_ = 0;     // the rank with the most expert rows (0 balanced: all alike)
  double hottest_rank_share_ = 0.0;  // the most-loaded rank's share of all expert rows (1 / ep balanced)
  // engine / host
  bool graph_prefill_ = false, graph_decode_ = false;
  double launch_s_ = 0.0;
  double iteration_overhead_s_ = 0.0;
  double sequence_overhead_s_ = 0.0;  // per sequence in the batch, on top of iteration_overhead_s_
  int64_t gpus_ = 1;
  std::vector<std::vector<Op>> stage_ops_;  // one op list per distinct stage composition
  std::vector<int> stage_type_;              // per pipeline stage: its index in stage_ops_
  std::vector<bool> send_across_nodes_;      // per stage boundary
  // stage_timing() scratch (no allocation per call once sized)
  std::vector<GpuActivity> type_activity_;
  StageTimes scratch_;
  std::unique_ptr<CollectiveModel> collectives_;
  std::unique_ptr<PowerModel> power_;
};

}  // namespace servesim

// Expert parallelism for MoE models, checked against closed forms: the balanced EP layer,
// ep = 1 as the TP-sharded MoE, skewed routing, the plan's GPU count, weights and KV per GPU,
// the all-to-all collective, and the plan errors of the reader.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/comm/collective_model.h"
#include "models/execution/op_level_model.h"
#include "tests/execution/moe_test_deployment.h"
#include "models/llm/model_math.h"
#include "sim/config/catalog.h"
#include "sim/config/deployment_reader.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"

namespace servesim {
namespace {

using namespace moe_test;  // NOLINT: the shared MoE test setup

BatchShape decode(int64_t b, int64_t c) { return BatchShape{{Segment{b, 1, c}}}; }
BatchShape prefill(int64_t b, int64_t s) { return BatchShape{{Segment{b, s, 0}}}; }

const OpCost* find_op(const IterationPrediction& p, const std::string& name) {
  for (const OpCost& op : p.ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

// One expert GEMM on one GPU as the model's README states it: `rows` expert rows through `active`
// distinct experts of [n, k] each: max(latency + 2 rows n k / rate, bytes / bandwidth), bytes = the
// active experts' weights + the rows in and out (bf16). (Inside iterations the memory-bound fixed
// term is dropped: iteration_efficiency.)
double expert_gemm_s(double rows, double active, double n, double k) {
  const GpuEfficiency eff = iteration_efficiency(round_efficiency());
  const double compute = eff.gemm_latency_s + 2.0 * rows * n * k / eff.gemm_flops_per_s;
  const double memory =
      eff.gemm_memory_latency_s + (2.0 * active * n * k + 2.0 * rows * (n + k)) / eff.gemm_bytes_per_s;
  return std::max(eff.graph_kernel_s, std::max(compute, memory));
}

// All-to-all of `bytes` per GPU among n GPUs: the all-reduce fit's latency + (n-1)/n x bytes over its
// bus bandwidth.
double all_to_all_s(double bytes, double n) {
  return kAllReduceLatencyS + (n - 1.0) / n * bytes / kAllReduceBusBytesPerS;
}

// System: one MoE layer (8 experts, top-2, hidden 4096, expert width 14336), tp 1, ep 4 (four
// attention groups), decode of 64 sequences, balanced routing.
// Expectation: each rank runs its 2 experts on 64 x 2 / 4 = 32 rows (each expert hit with
// probability 1 - (1 - 2/8)^64), plus a dispatch and a combine all-to-all of 64 x 2 x 4096 x 2 / 4
// bytes per GPU among the 4 ranks; no all-reduce.
TEST(ExpertParallel, BalancedLayerIsTheExpertGemmOnTokensTimesTopKOverEpRowsPlusTwoAllToAlls) {
  OpLevelExecutionModel model(moe_deployment(1, 4));
  const double tokens = 64.0, ep = 4.0;
  const IterationPrediction p = model.predict(decode(64, 100));
  const double rows = tokens * 2.0 / ep;
  const double active = 8.0 / ep * (1.0 - std::pow(1.0 - 2.0 / 8.0, tokens));
  const double gemms = expert_gemm_s(rows, active, 2.0 * 14336.0, 4096.0) + expert_gemm_s(rows, active, 4096.0, 14336.0);
  const double exchange = all_to_all_s(tokens * 2.0 * 4096.0 * 2.0 / ep, ep);
  EXPECT_NEAR(p.iteration_s, gemms + 2.0 * exchange, 1e-12);
  EXPECT_NEAR(p.communication_s, 2.0 * exchange, 1e-15);
  ASSERT_NE(find_op(p, "moe_dispatch"), nullptr);
  ASSERT_NE(find_op(p, "moe_combine"), nullptr);
  EXPECT_NEAR(find_op(p, "moe_dispatch")->seconds, exchange, 1e-15);
  EXPECT_EQ(find_op(p, "moe_combine")->bound, Bound::kCommunication);
  EXPECT_EQ(find_op(p, "all_reduce"), nullptr);
  EXPECT_NEAR(model.timing(decode(64, 100)).iteration_s, p.iteration_s, 1e-15);
}

// ep = 1 is the tensor-parallel MoE of before: every GPU holds a 1/tp slice of every expert, runs all
// 64 x 2 expert rows through the E (1 - (1 - k/E)^T) experts hit, and all-reduces the output.
TEST(ExpertParallel, EpOneIsTheTensorParallelMoeExactly) {
  for (int64_t tp : {1, 2, 4}) {
    OpLevelExecutionModel model(moe_deployment(tp, 1));
    const IterationPrediction p = model.predict(decode(64, 100));
    const double width = 14336.0 / static_cast<double>(tp);
    const double active = 8.0 * (1.0 - std::pow(1.0 - 2.0 / 8.0, 64.0));
    double expected = expert_gemm_s(128.0, active, 2.0 * width, 4096.0) + expert_gemm_s(128.0, active, 4096.0, width);
    if (tp > 1) {
      const double n = static_cast<double>(tp);
      expected += kAllReduceLatencyS + 2.0 * (n - 1.0) / n * 64.0 * 4096.0 * 2.0 / kAllReduceBusBytesPerS;
    }
    EXPECT_DOUBLE_EQ(p.iteration_s, expected) << "tp " << tp;
    EXPECT_EQ(find_op(p, "moe_dispatch"), nullptr);
  }
}

// The catalog's MoE models at ep = 1 give the same step with and without the routing key set to
// its default, and the ep = 1 plan owns tp x pp GPUs as before.
TEST(ExpertParallel, EpOneWithExplicitBalancedRoutingChangesNothing) {
  for (const char* name : {"mixtral-8x7b", "deepseek-v3"}) {
    Deployment d;
    d.node = load_node("h200-sxm");
    d.model = load_model(name);
    d.engine = load_engine("vllm");
    d.plan.tp = 8;
    const BatchShape batch{{Segment{1, 512, 0}, Segment{32, 1, 2000}}};
    const IterationPrediction before = OpLevelExecutionModel(d).predict(batch);
    d.plan.routing.kind = ExpertRouting::Kind::kBalanced;
    d.plan.ep = 1;
    const IterationPrediction after = OpLevelExecutionModel(d).predict(batch);
    EXPECT_EQ(before.iteration_s, after.iteration_s) << name;
    EXPECT_EQ(before.energy_j, after.energy_j) << name;
    EXPECT_EQ(d.plan.gpus_per_replica(), 8);
  }
}

// ep < tp (tp 4, ep 2): each rank's 4 experts are split over its tp / ep = 2 GPUs; every GPU already
// holds every token (one attention group), so no all-to-all is paid and the all-reduce after the down
// projection stays. Each GPU runs 32 x 2 / 2 expert rows at half the expert width.
TEST(ExpertParallel, EpBelowTpShardsEachRanksExpertsAndKeepsTheAllReduce) {
  const IterationPrediction p = OpLevelExecutionModel(moe_deployment(4, 2)).predict(decode(32, 100));
  const double rows = 32.0 * 2.0 / 2.0, width = 14336.0 / 2.0;
  const double active = 8.0 / 2.0 * (1.0 - std::pow(1.0 - 2.0 / 8.0, 32.0));
  const double reduce = kAllReduceLatencyS + 2.0 * 3.0 / 4.0 * 32.0 * 4096.0 * 2.0 / kAllReduceBusBytesPerS;
  EXPECT_NEAR(p.iteration_s,
              expert_gemm_s(rows, active, 2.0 * width, 4096.0) + expert_gemm_s(rows, active, 4096.0, width) + reduce,
              1e-12);
  EXPECT_EQ(find_op(p, "moe_dispatch"), nullptr);
  ASSERT_NE(find_op(p, "all_reduce"), nullptr);
}

// ep = tp = 4 (one attention group of 4 GPUs): the down projection's all-reduce is replaced by the
// dispatch and combine of 32 x 2 x 4096 x 2 / 4 bytes per GPU.
TEST(ExpertParallel, EpEqualToTpReplacesTheDownAllReduceByTheTwoAllToAlls) {
  const IterationPrediction p = OpLevelExecutionModel(moe_deployment(4, 4)).predict(decode(32, 100));
  EXPECT_EQ(find_op(p, "all_reduce"), nullptr);
  ASSERT_NE(find_op(p, "moe_combine"), nullptr);
  EXPECT_NEAR(find_op(p, "moe_combine")->seconds, all_to_all_s(32.0 * 2.0 * 4096.0 * 2.0 / 4.0, 4.0), 1e-15);
}

// Shared experts (DeepSeek) belong to the dense part: tensor-parallel over the attention group's tp
// GPUs, over the group's rows. tp 2, ep 4 (two attention groups), decode of 64: the routed experts run
// 64 x 2 / 4 rows per rank at full width (expert TP 1), the shared expert 32 rows at half width; the
// two are one fused kernel's roofline (their compute and memory terms add).
TEST(ExpertParallel, SharedExpertsAreTensorParallelOverTheAttentionGroupAndSeeItsRows) {
  Deployment d = moe_deployment(2, 4);
  d.model.moe.shared_experts = 1;
  d.engine.layer = {gemm_kernel("gate_up_proj", GemmWeight::kGateUp)};
  const IterationPrediction p = OpLevelExecutionModel(d).predict(decode(64, 100));
  const GpuEfficiency eff = iteration_efficiency(round_efficiency());
  const double rows = 64.0 * 2.0 / 4.0, n = 2.0 * 14336.0, k = 4096.0;
  const double active = 8.0 / 4.0 * (1.0 - std::pow(1.0 - 2.0 / 8.0, 64.0));
  const GemmCost shared = gemm_cost(eff, 100, 32.0, 2.0 * 14336.0 / 2.0, 4096.0, 2.0);
  const double compute = eff.gemm_latency_s + 2.0 * rows * n * k / eff.gemm_flops_per_s + shared.compute_s -
                         eff.gemm_latency_s;
  const double memory = (2.0 * active * n * k + 2.0 * rows * (n + k)) / eff.gemm_bytes_per_s + shared.memory_s;
  ASSERT_NE(find_op(p, "gate_up_proj"), nullptr);
  EXPECT_NEAR(find_op(p, "gate_up_proj")->seconds, std::max(compute, memory), 1e-12);
}

// Frequencies that are all equal are the balanced router (the per-rank path against the closed form).
TEST(ExpertRouting, EqualFrequenciesAreTheBalancedClosedForm) {
  Deployment d = moe_deployment(1, 4);
  const double balanced = OpLevelExecutionModel(d).predict(decode(48, 100)).iteration_s;
  d.plan.routing.kind = ExpertRouting::Kind::kFrequencies;
  d.plan.routing.frequencies.assign(8, 3.0);
  EXPECT_NEAR(OpLevelExecutionModel(d).predict(decode(48, 100)).iteration_s, balanced, 1e-12 * balanced);
  d.plan.routing.kind = ExpertRouting::Kind::kZipf;
  d.plan.routing.zipf_s = 0.0;
  EXPECT_NEAR(OpLevelExecutionModel(d).predict(decode(48, 100)).iteration_s, balanced, 1e-12 * balanced);
}

// Selection probabilities: proportional to the shares, capped at 1, summing to top-k.
TEST(ExpertRouting, SelectionProbabilitiesAreCappedAtOneAndSumToTopK) {
  ExpertRouting routing;
  routing.kind = ExpertRouting::Kind::kFrequencies;
  routing.frequencies = {10.0, 1.0, 1.0, 2.0};
  // top-2: expert 0 alone would get 2 x 10/14 > 1, so it is capped; the remaining 1 choice goes to
  // experts 1, 2, 3 in proportion 1 : 1 : 2.
  const std::vector<double> q = expert_selection_probabilities(routing, 4, 2);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_DOUBLE_EQ(q[0], 1.0);
  EXPECT_DOUBLE_EQ(q[1], 0.25);
  EXPECT_DOUBLE_EQ(q[2], 0.25);
  EXPECT_DOUBLE_EQ(q[3], 0.5);
  routing.kind = ExpertRouting::Kind::kZipf;
  routing.zipf_s = 1.2;
  const std::vector<double> z = expert_selection_probabilities(routing, 256, 8);
  double sum = 0.0;
  for (double p : z) sum += p;
  EXPECT_NEAR(sum, 8.0, 1e-12);
  EXPECT_TRUE(std::is_sorted(z.rbegin(), z.rend()));
  EXPECT_LE(z.front(), 1.0);
}

struct MoeShape {
  int64_t experts, top_k, expert_width, ep;
};

// The test layer with other expert counts / widths (tp 1).
Deployment shaped(const MoeShape& shape) {
  Deployment d = moe_deployment(1, shape.ep);
  d.model.moe.experts = shape.experts;
  d.model.moe.experts_per_token = shape.top_k;
  d.model.moe.expert_intermediate = shape.expert_width;
  return d;
}

// Layer time under Zipf routing with exponent s (s = 0: balanced), for each s in turn.
std::vector<double> zipf_times(const MoeShape& shape, const BatchShape& batch, const std::vector<double>& exponents) {
  Deployment d = shaped(shape);
  std::vector<double> times;
  times.push_back(OpLevelExecutionModel(d).predict(batch).iteration_s);
  d.plan.routing.kind = ExpertRouting::Kind::kZipf;
  for (double s : exponents) {
    d.plan.routing.zipf_s = s;
    times.push_back(OpLevelExecutionModel(d).predict(batch).iteration_s);
  }
  return times;
}

void expect_increasing(const std::vector<double>& times, const std::string& what) {
  for (std::size_t i = 1; i < times.size(); ++i) EXPECT_GT(times[i], times[i - 1]) << what << ", step " << i;
}

const MoeShape kMixtralEp8{8, 2, 14336, 8};   // one expert per rank
const MoeShape kMixtralEp2{8, 2, 14336, 2};   // four experts per rank
const MoeShape kDeepSeekEp8{256, 8, 2048, 8};  // 32 experts per rank

// A Zipf router (expert e's share ~ (e + 1)^-s, hottest experts on rank 0, contiguous placement) makes
// the MoE layer slower than balanced, strictly more so as s grows from 0 to 3, wherever the hottest
// rank's expert rows set its time: with one expert per rank (Mixtral at EP 8) at every batch size, and
// in compute-bound prefill for any shape.
TEST(ExpertRouting, ZipfSkewSlowsTheLayerMonotonicallyWhereTheHottestRanksRowsSetIt) {
  const std::vector<double> exponents = {0.25, 0.5, 1.0, 1.5, 2.0, 3.0};
  for (int64_t b : {1, 4, 16, 64, 256, 1024}) {
    const std::vector<double> t = zipf_times(kMixtralEp8, decode(b, 100), exponents);
    // Beyond s ~ 1.5 the two hottest experts take every token (top-2 capped at 1): the layer stops
    // changing, so the last steps only must not get faster.
    expect_increasing(std::vector<double>(t.begin(), t.begin() + 5), "Mixtral EP8, " + std::to_string(b));
    EXPECT_GE(t.back(), t[4] * (1.0 - 1e-12));
  }
  for (const MoeShape& shape : {kMixtralEp2, kDeepSeekEp8}) {
    expect_increasing(zipf_times(shape, prefill(1, 4096), exponents), "prefill, " + std::to_string(shape.experts));
  }
}

// Realistic skews (s <= 0.5: Mixtral's hottest expert then takes 25% of the expert rows against 12.5%
// balanced) slow the layer at every batch size and shape, and for DeepSeek-V3's 256 experts at EP 8
// the slow-down grows monotonically up to s = 1 (where the hottest expert is in every token's top 8).
TEST(ExpertRouting, ModerateZipfSkewSlowsEveryShapeAndBatch) {
  for (const MoeShape& shape : {kMixtralEp8, kMixtralEp2, kDeepSeekEp8}) {
    for (int64_t b : {1, 4, 16, 64, 256, 1024}) {
      expect_increasing(zipf_times(shape, decode(b, 100), {0.25, 0.5}),
                        std::to_string(shape.experts) + " experts, ep " + std::to_string(shape.ep) + ", " +
                            std::to_string(b) + " sequences");
    }
  }
  for (int64_t b : {1, 4, 16, 64, 256, 1024}) {
    expect_increasing(zipf_times(kDeepSeekEp8, decode(b, 100), {0.25, 0.5, 0.75, 1.0}),
                      "DeepSeek EP8, " + std::to_string(b));
  }
}

// Where weight streaming sets the time and a rank holds many experts, an extreme skew concentrates the
// batch on the few hottest experts, so the hottest rank streams fewer distinct experts than a balanced
// rank does: DeepSeek-like shapes at EP 8, 64 decode tokens: balanced, every rank's 32 experts are each
// hit with probability 1 - (1 - 8/256)^64 = 87% (27.8 streamed, 64 rows); at s = 3 rank 0's top 5 experts
// are in every token's top 8 and the rest rarely hit: 507 rows through 25.1 experts, fewer weight bytes.
// The model reports that speed-up rather than hide it (README).
TEST(ExpertRouting, ExtremeSkewOnAWeightStreamingRankWithManyExpertsStreamsFewerExperts) {
  const std::vector<double> t = zipf_times(kDeepSeekEp8, decode(64, 100), {1.0, 3.0});
  EXPECT_GT(t[1], t[0]);
  EXPECT_LT(t[2], t[0]);
}

// The hottest rank receives more than its 1/ep share, so the all-to-all grows with the skew too:
// Mixtral shapes at ep 8, s = 1: the rank holding expert 0 gets q_0 / 2 of all expert rows.
TEST(ExpertRouting, SkewedAllToAllCarriesTheHottestRanksShare) {
  Deployment d = moe_deployment(1, 8);
  d.plan.routing.kind = ExpertRouting::Kind::kZipf;
  d.plan.routing.zipf_s = 1.0;
  const std::vector<double> q = expert_selection_probabilities(d.plan.routing, 8, 2);
  const IterationPrediction p = OpLevelExecutionModel(d).predict(decode(64, 100));
  ASSERT_NE(find_op(p, "moe_dispatch"), nullptr);
  EXPECT_NEAR(find_op(p, "moe_dispatch")->seconds, all_to_all_s(64.0 * 2.0 * 4096.0 * 2.0 * q[0] / 2.0, 8.0), 1e-15);
}

// Attention data parallelism: 4 attention groups each run a quarter of 64 decode sequences; one
// sequence cannot be split, so a lone prompt costs its whole attention on one group.
TEST(ExpertParallel, AttentionGroupsEachRunTheirShareOfWholeSequences) {
  KernelSpec attention;
  attention.name = "attention";
  attention.kind = KernelKind::kAttention;
  Deployment d = moe_deployment(1, 1);
  d.engine.layer = {attention, gemm_kernel("o_proj", GemmWeight::kO)};
  Deployment ep = d;
  ep.plan.ep = 4;
  OpLevelExecutionModel one(d), four(ep);
  EXPECT_NEAR(four.predict(decode(64, 1000)).iteration_s, one.predict(decode(16, 1000)).iteration_s, 1e-15);
  EXPECT_NEAR(four.predict(decode(6, 1000)).iteration_s, one.predict(decode(2, 1000)).iteration_s, 1e-15);
  EXPECT_NEAR(four.predict(prefill(1, 2048)).iteration_s, one.predict(prefill(1, 2048)).iteration_s, 1e-15);
}

// GPUs of a replica: max(tp, ep) per stage, times pp.
TEST(ParallelPlan, GpusPerReplicaAreMaxOfTpAndEpTimesPp) {
  ParallelPlan plan;
  plan.tp = 2;
  plan.ep = 8;
  plan.pp = 2;
  EXPECT_EQ(plan.gpus_per_stage(), 8);
  EXPECT_EQ(plan.attention_groups(), 4);
  EXPECT_EQ(plan.gpus_per_replica(), 16);
  plan.tp = 8;
  plan.ep = 2;
  EXPECT_EQ(plan.attention_groups(), 1);
  EXPECT_EQ(plan.gpus_per_replica(), 16);
  plan.ep = 1;
  plan.pp = 3;
  EXPECT_EQ(plan.gpus_per_replica(), 24);  // tp x pp, as without EP
}

// Energy counts every GPU of the stage: the EP 8 plan's joules are 8 GPUs' at the slowest GPU's activity.
TEST(ExpertParallel, EnergyCountsEveryGpuOfTheStage) {
  Deployment d = moe_deployment(1, 8);
  OpLevelExecutionModel model(d);
  const BatchShape batch = decode(64, 100);
  const GpuActivity a = model.activity(batch);
  const ActivityPowerModel power(activity_power_for(d.node.gpu));
  EXPECT_NEAR(model.predict(batch).energy_j, 8.0 * power.joules(a), 1e-12);
}

// Routed-expert weights of a model (gate, up and down of every routed expert of every MoE layer).
double routed_params(const ModelSpec& m) {
  return static_cast<double>(m.layers - m.moe.dense_layers) * static_cast<double>(m.moe.experts) * 3.0 *
         static_cast<double>(m.hidden) * static_cast<double>(m.moe.expert_intermediate);
}

Deployment catalog_deployment(const char* hardware, const char* model, int64_t tp, int64_t ep) {
  Deployment d;
  d.node = load_node(hardware);
  d.model = load_model(model);
  d.engine = load_engine("vllm");
  d.plan.tp = tp;
  d.plan.ep = ep;
  return d;
}

// Weights per GPU = (everything but the routed experts) / tp + routed experts / max(tp, ep); the
// KV capacity is the per-GPU capacity times the max(tp, ep) / tp attention groups.
TEST(KvBudget, ExpertParallelSplitsRoutedExpertsOverTheStageAndPoolsEachAttentionGroupsKv) {
  const Deployment d = catalog_deployment("h100-sxm", "mixtral-8x7b", 1, 8);
  const KvBudget b = kv_budget(d, 0.9, 8192);
  const double routed = routed_params(d.model) * 2.0;  // bf16
  EXPECT_NEAR(b.weights_bytes_per_gpu, weight_bytes(d.model) - routed + routed / 8.0, 1.0);
  // Every GPU holds the full KV of its own group's sequences: 32 layers x 2 x 8 heads x 128 x 2 bytes.
  EXPECT_DOUBLE_EQ(b.kv_bytes_per_token_per_gpu, 32.0 * 2 * 8 * 128 * 2);
  const double free_bytes = d.node.gpu.hbm_bytes * 0.9 - b.weights_bytes_per_gpu - b.activation_reserve_bytes;
  EXPECT_EQ(b.capacity_tokens, 8 * static_cast<int64_t>(std::floor(free_bytes / b.kv_bytes_per_token_per_gpu)));
}

// DeepSeek-V3 (671B, FP8 weights) on 8 H100s at EP 8 with attention DP 8: every GPU holds 1/8 of the
// routed experts plus a full copy of attention (MLA), dense layers, shared experts and embeddings
// (the embedding and LM head in bf16, as the FP8 checkpoint keeps them: 2 x 129280 x 7168 x 2 bytes),
// 100.7 GB; 0.9 x 79.2 GiB do not hold that. The refusal says by how much.
TEST(KvBudget, DeepSeekV3AtEp8On8H100sIsRefusedWithItsRealPerGpuBytes) {
  const Deployment d = catalog_deployment("h100-sxm", "deepseek-v3", 1, 8);
  const ModelSpec& m = d.model;
  const double routed = routed_params(m) * 1.0;  // FP8
  const double weights = weight_bytes(m) - routed + routed / 8.0;
  // Activation reserve per GPU: 8192 tokens over 8 attention groups x (q + 2 kv + 8 hidden) + the FFN
  // rows over 8 GPUs x 3 x max(dense width, top-8 x expert width), bf16.
  const double per_row = 2.0 * ((128.0 * 192.0 + 2.0 * 128.0 * 192.0 + 8.0 * 7168.0) / 8.0 +
                                3.0 * std::max(18432.0, 8.0 * 2048.0) / 8.0);
  const double activations = 8192.0 * per_row;
  const double gib = 1024.0 * 1024.0 * 1024.0;
  const double usable = d.node.gpu.hbm_bytes * 0.9;
  char expected[256];
  std::snprintf(expected, sizeof expected,
                "needs %.1f GiB per GPU (weights %.1f GiB + activations %.1f GiB), has %.1f GiB (90%% of %.1f GiB): "
                "short by %.1f GiB",
                (weights + activations) / gib, weights / gib, activations / gib, usable / gib,
                d.node.gpu.hbm_bytes / gib, (weights + activations - usable) / gib);
  try {
    kv_budget(d, 0.9, 8192);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), expected);
  }
  EXPECT_NEAR(weights / 1e9, 100.7, 0.05);  // the figure the comment above states
}

// The same model on 8 H200s (141 GB each) fits at EP 8 and holds 8 attention groups' KV.
TEST(KvBudget, DeepSeekV3AtEp8On8H200sFits) {
  const KvBudget b = kv_budget(catalog_deployment("h200-sxm", "deepseek-v3", 1, 8), 0.9, 8192);
  EXPECT_GT(b.capacity_tokens, 0);
  EXPECT_EQ(b.capacity_tokens % 8, 0);
  // MLA: every GPU keeps the full latent (512 + 64) x 2 bytes per token per layer of its own sequences.
  EXPECT_DOUBLE_EQ(b.kv_bytes_per_token_per_gpu, 61.0 * 576.0 * 2.0);
}

// The all-to-all collective: the all-gather's traffic ((n-1)/n of the bytes) at the all-reduce fit.
TEST(AlphaBetaCollectives, AllToAllMovesTheAllGatherTrafficAtTheAllReduceFit) {
  AlphaBetaParams params;
  params.allreduce_latency_s = 22e-6;
  params.allreduce_bus_bytes_per_s = 300e9;
  const AlphaBetaCollectives model(params);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kAllToAll, 8e6, 8), 22e-6 + 7.0 / 8.0 * 8e6 / 300e9);
  EXPECT_EQ(model.seconds(Collective::kAllToAll, 8e6, 1), 0.0);
}

// Against the one all-to-all measurement we have: DeepEP's intranode normal kernels on 8 H100s
// (tile-ai/tilescale, examples/distributed DeepEP benchmark table: 4096 tokens, hidden 7168, top-8 of
// 32 experts, bf16): dispatch 1.0045 ms at 328.97 GB/s, combine 1.1552 ms at 287.14 GB/s, i.e. 330.5
// and 331.7 MB per GPU. Our NVLink-4 fit predicts 0.916 and 0.919 ms: -8.9% and -20.5% (README).
TEST(AlphaBetaCollectives, AllToAllOnNvlink4IsWithinItsStatedErrorOfDeepEpOnH100) {
  const AlphaBetaCollectives model(alpha_beta_for(load_node("h100-sxm").fabric));
  const double dispatch = model.seconds(Collective::kAllToAll, 1.0045e-3 * 328.97e9, 8);
  const double combine = model.seconds(Collective::kAllToAll, 1.1552e-3 * 287.14e9, 8);
  EXPECT_NEAR(dispatch / 1.0045e-3 - 1.0, -0.089, 0.005);
  EXPECT_NEAR(combine / 1.1552e-3 - 1.0, -0.205, 0.005);
}

// Plan errors: one ConfigError naming /plan/<key>.
std::string plan_error(const std::string& model_json, const std::string& plan_json) {
  const std::string text = R"({"hardware": "h100-sxm", "model": )" + model_json + R"(, "engine": "vllm", "plan": )" +
                           plan_json + "}";
  ConfigNode root(parse_json_text(text, "cfg.json"), "cfg.json");
  try {
    read_deployment(root);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

TEST(PlanReader, EpOnADenseModelIsRefused) {
  EXPECT_EQ(plan_error(R"("llama-3.1-8b")", R"({"ep": 2})"),
            "cfg.json: /plan/ep: ep 2 needs a mixture-of-experts model (llama-3.1-8b is dense)");
}

TEST(PlanReader, EpThatDoesNotDivideTheExpertsIsRefused) {
  EXPECT_EQ(plan_error(R"("mixtral-8x7b")", R"({"ep": 3})"),
            "cfg.json: /plan/ep: ep 3 does not divide the model's 8 routed experts");
}

TEST(PlanReader, EpAndTpThatDoNotDivideOneAnotherAreRefused) {
  const std::string model =
      R"({"hidden": 1024, "layers": 2, "heads": 12, "kv_heads": 4, "intermediate": 4096, "vocab": 0,
          "moe": {"experts": 6, "experts_per_token": 2, "expert_intermediate": 1024}})";
  EXPECT_EQ(plan_error(model, R"({"tp": 2, "ep": 3})"),
            "cfg.json: /plan/ep: ep 3 and tp 2: one must divide the other (a stage runs on max(tp, ep) GPUs)");
}

TEST(PlanReader, EpOverWholeNodesIsAPlan) {
  EXPECT_EQ(plan_error(R"("deepseek-v3")", R"({"ep": 32, "tp": 4})").find("cfg.json"), std::string::npos)
      << "ep 32 over four 8-GPU nodes is a plan";
  EXPECT_EQ(plan_error(R"("mixtral-8x7b")", R"({"ep": 8, "tp": 8})").find("cfg.json"), std::string::npos);
}

TEST(PlanReader, ExpertRoutingOnADenseModelIsRefused) {
  EXPECT_EQ(plan_error(R"("llama-3.1-8b")", R"({"expert_routing": {"zipf": 1.0}})"),
            "cfg.json: /plan/expert_routing: expert_routing needs a mixture-of-experts model (llama-3.1-8b is dense)");
}

TEST(PlanReader, ExpertRoutingFrequenciesNeedOnePerExpertAndEnoughPositive) {
  EXPECT_EQ(plan_error(R"("mixtral-8x7b")", R"({"ep": 8, "expert_routing": {"frequencies": [1, 2]}})"),
            "cfg.json: /plan/expert_routing/frequencies: expected an array of 8 numbers (one per routed expert), got "
            "[1,2]");
  EXPECT_EQ(plan_error(R"("mixtral-8x7b")", R"({"ep": 8, "expert_routing": {"frequencies": [1, 0, 0, 0, 0, 0, 0, 0]}})"),
            "cfg.json: /plan/expert_routing/frequencies: 1 of the 8 experts have a positive frequency, but each token "
            "picks 2 distinct experts");
  EXPECT_EQ(plan_error(R"("mixtral-8x7b")", R"({"expert_routing": "skewed"})"),
            "cfg.json: /plan/expert_routing: unknown expert routing 'skewed'; allowed: \"balanced\", {\"zipf\": s}, "
            "{\"frequencies\": [...]}");
}

TEST(PlanReader, ExpertRoutingIsReadIntoThePlan) {
  const std::string text =
      R"({"hardware": "h100-sxm", "model": "mixtral-8x7b", "engine": "vllm",
          "plan": {"ep": 8, "expert_routing": {"zipf": 1.5}}})";
  ConfigNode root(parse_json_text(text, "cfg.json"), "cfg.json");
  const Deployment d = read_deployment(root);
  EXPECT_EQ(d.plan.ep, 8);
  EXPECT_EQ(d.plan.routing.kind, ExpertRouting::Kind::kZipf);
  EXPECT_EQ(d.plan.routing.zipf_s, 1.5);
}

}  // namespace
}  // namespace servesim

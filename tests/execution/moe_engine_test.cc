// How an engine runs a MoE layer (EngineProfile::moe_experts, MoE-only and per-expert kernels),
// checked against closed forms on a GPU with round numbers: the reference engine's expert loop
// pays each expert's fixed cost where a grouped kernel pays one; the router GEMM and the routing
// kernels run in MoE layers only; per-expert kernels launch once per expert hit, over its rows.
// And the profile errors of the reader.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "models/execution/op_level_model.h"
#include "tests/execution/moe_test_deployment.h"
#include "sim/config/deployment_reader.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"

namespace servesim {
namespace {

using namespace moe_test;  // NOLINT: the shared MoE test setup (round_efficiency's numbers below)

constexpr double kRate = 100e12;       // FLOP/s
constexpr double kBandwidth = 1e12;    // GEMM bytes / s
constexpr double kLatencyS = 2e-6;     // compute-regime fixed term (kept inside iterations)
constexpr double kElementwise = 0.8e12;
constexpr double kGraphKernelS = 1e-6;

KernelSpec elementwise_kernel(const char* name) {
  KernelSpec k;
  k.name = name;
  k.kind = KernelKind::kElementwise;
  return k;
}

// One layer of moe_deployment (tp 1, ep 1), its experts run as `experts`; `moe` false: the same
// shapes as a dense model.
Deployment deployment(MoeExperts experts, bool moe = true) {
  Deployment d = moe_deployment(1, 1);
  d.engine.moe_experts = experts;
  if (!moe) d.model.moe = MoeSpec{};
  return d;
}

BatchShape prefill(int64_t b, int64_t s) { return BatchShape{{Segment{b, s, 0}}}; }
BatchShape decode(int64_t b, int64_t c) { return BatchShape{{Segment{b, 1, c}}}; }

const OpCost* find_op(const IterationPrediction& p, const std::string& name) {
  for (const OpCost& op : p.ops) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

// Expected distinct experts that `tokens` top-2 tokens hit among 8.
double active_experts(double tokens) { return 8.0 * (1.0 - std::pow(1.0 - 2.0 / 8.0, tokens)); }

// System: prefill of 4,096 tokens, 8,192 expert rows, every expert hit; both GEMMs compute bound
// (per expert 1,024 rows: 2 x 1024 x 28672 x 4096 / 100 TFLOP/s = 2.4 ms against 0.30 ms of bytes).
// Expectation: the loop pays the 2 us fixed term once per expert and GEMM: 2 x 7 x 2 us = 28 us more
// than the grouped kernel, the FLOPs being the same; each expert GEMM is a launch of its own.
TEST(MoeExperts, ALoopOverExpertsPaysEachExpertsFixedTermWhereAGroupedKernelPaysOne) {
  const IterationPrediction grouped = OpLevelExecutionModel(deployment(MoeExperts::kGrouped)).predict(prefill(1, 4096));
  const IterationPrediction loop = OpLevelExecutionModel(deployment(MoeExperts::kSequential)).predict(prefill(1, 4096));
  ASSERT_DOUBLE_EQ(active_experts(4096.0), 8.0);
  EXPECT_NEAR(loop.iteration_s - grouped.iteration_s, 2.0 * 7.0 * kLatencyS, 1e-12);
  const double rows = 1024.0;
  const double gate_up = kLatencyS + 2.0 * rows * 28672.0 * 4096.0 / kRate;
  EXPECT_NEAR(find_op(loop, "gate_up_proj")->seconds, 8.0 * gate_up, 1e-12);
  EXPECT_EQ(find_op(loop, "gate_up_proj")->count, 8);
  EXPECT_EQ(find_op(grouped, "gate_up_proj")->count, 1);
}

// System: decode of 64 sequences (128 expert rows, 8 x (1 - 0.75^64) experts hit), weight streaming.
// Expectation: memory bound either way, and the loop streams the same weights and rows as the
// grouped kernel: per expert (2 n k + 2 r (n + k)) / bandwidth with r = 128 / active, times active.
TEST(MoeExperts, WeightStreamingExpertsCostTheSameBytesLoopedOrGrouped) {
  const IterationPrediction grouped = OpLevelExecutionModel(deployment(MoeExperts::kGrouped)).predict(decode(64, 100));
  const IterationPrediction loop = OpLevelExecutionModel(deployment(MoeExperts::kSequential)).predict(decode(64, 100));
  const double active = active_experts(64.0);
  const double r = 128.0 / active;
  const double n = 28672.0, k = 4096.0;
  const double expected = active * (2.0 * n * k + 2.0 * r * (n + k)) / kBandwidth;
  EXPECT_NEAR(find_op(loop, "gate_up_proj")->seconds, expected, 1e-12);
  EXPECT_NEAR(find_op(loop, "gate_up_proj")->seconds, find_op(grouped, "gate_up_proj")->seconds, 1e-12);
  EXPECT_EQ(find_op(loop, "gate_up_proj")->bound, Bound::kMemory);
}

// System: the layer plus a router GEMM and a softmax marked MoE-only, and SiLU x up run per expert.
// Expectation on the MoE model, prefill of 512 tokens (1,024 expert rows, all 8 experts hit):
// router = max(2 us + 2 x 512 x 8 x 4096 / rate, (2 x 8 x 4096 + 2 x 512 x (8 + 4096)) / bandwidth);
// softmax = 1 us + 512 x 4 x 8 bytes / 0.8 TB/s; silu_mul = 8 launches x 1 us + 1024 x 10 x 14336
// bytes / 0.8 TB/s. On the dense model: no router, no softmax, and silu_mul once over 512 rows.
TEST(MoeExperts, RoutingKernelsRunInMoeLayersOnlyAndPerExpertKernelsOncePerExpertHit) {
  auto with_routing = [](Deployment d) {
    KernelSpec router = gemm_kernel("router", GemmWeight::kRouter);
    router.layers = LayerScope::kMoe;
    KernelSpec softmax = elementwise_kernel("router_softmax");
    softmax.layers = LayerScope::kMoe;
    softmax.bytes_per_row.experts = 4.0;
    KernelSpec silu = elementwise_kernel("silu_mul");
    silu.per_expert = true;
    silu.bytes_per_row.ffn = 10.0;
    d.engine.layer.insert(d.engine.layer.begin(), {router, softmax});
    d.engine.layer.push_back(silu);
    return d;
  };
  const IterationPrediction moe =
      OpLevelExecutionModel(with_routing(deployment(MoeExperts::kSequential))).predict(prefill(1, 512));
  const double tokens = 512.0;
  const double router = std::max(kLatencyS + 2.0 * tokens * 8.0 * 4096.0 / kRate,
                                 (2.0 * 8.0 * 4096.0 + 2.0 * tokens * (8.0 + 4096.0)) / kBandwidth);
  ASSERT_NE(find_op(moe, "router"), nullptr);
  EXPECT_NEAR(find_op(moe, "router")->seconds, router, 1e-15);
  EXPECT_NEAR(find_op(moe, "router_softmax")->seconds, kGraphKernelS + tokens * 4.0 * 8.0 / kElementwise, 1e-15);
  ASSERT_DOUBLE_EQ(active_experts(tokens), 8.0);
  EXPECT_NEAR(find_op(moe, "silu_mul")->seconds, 8.0 * kGraphKernelS + 1024.0 * 10.0 * 14336.0 / kElementwise, 1e-15);
  EXPECT_EQ(find_op(moe, "silu_mul")->count, 8);

  const IterationPrediction dense =
      OpLevelExecutionModel(with_routing(deployment(MoeExperts::kSequential, false))).predict(prefill(1, 512));
  EXPECT_EQ(find_op(dense, "router"), nullptr);
  EXPECT_EQ(find_op(dense, "router_softmax"), nullptr);
  EXPECT_NEAR(find_op(dense, "silu_mul")->seconds, kGraphKernelS + tokens * 10.0 * 14336.0 / kElementwise, 1e-15);
  EXPECT_EQ(find_op(dense, "silu_mul")->count, 1);
}

// Profile errors: one ConfigError naming the engine key.
std::string engine_error(const std::string& engine_json) {
  const std::string text =
      R"({"hardware": "h100-sxm", "model": "mixtral-8x7b", "engine": )" + engine_json + R"(, "plan": {"tp": 1}})";
  ConfigNode root(parse_json_text(text, "cfg.json"), "cfg.json");
  try {
    read_deployment(root);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "no error";
}

std::string engine_with(const std::string& extra, const std::string& layer_kernel, const std::string& prologue = "") {
  return R"({"cuda_graphs": {"prefill": true, "decode": true})" + extra + R"(, "layer": [)" + layer_kernel + "]" +
         (prologue.empty() ? "" : R"(, "prologue": [)" + prologue + "]") + "}";
}

TEST(MoeEngineReader, ARouterOutsideMoeLayersIsRefused) {
  EXPECT_EQ(engine_error(engine_with("", R"({"name": "r", "kind": "gemm", "weight": "router"})")),
            "cfg.json: /engine/layer/0/weight: the router GEMM runs only in MoE layers: give it \"layers\": \"moe\"");
}

TEST(MoeEngineReader, PerExpertGemmsAndLayerScopesOutsideTheLayerAreRefused) {
  EXPECT_EQ(engine_error(engine_with("", R"({"name": "g", "kind": "gemm", "weight": "gate_up", "per_expert": true})")),
            "cfg.json: /engine/layer/0/per_expert: only elementwise kernels run per expert (expert GEMMs follow "
            "\"moe_experts\")");
  EXPECT_EQ(engine_error(engine_with("", R"({"name": "g", "kind": "gemm", "weight": "gate_up"})",
                                     R"({"name": "e", "kind": "elementwise", "layers": "moe", "bytes_per_row": {}})")),
            "cfg.json: /engine/prologue/0/layers: only a kernel of \"layer\" runs in some layers");
  EXPECT_EQ(engine_error(engine_with(
                "", R"({"name": "e", "kind": "elementwise", "per_expert": true, "rows": "sampled", "bytes_per_row": {}})")),
            "cfg.json: /engine/layer/0/per_expert: a per-expert kernel runs over its expert's token rows: \"rows\" "
            "must be \"tokens\"");
}

TEST(MoeEngineReader, AnUnknownExpertScheduleIsRefusedAndTheKnownOnesAreRead) {
  const std::string layer = R"({"name": "g", "kind": "gemm", "weight": "gate_up"})";
  const std::string error = engine_error(engine_with(R"(, "moe_experts": "interleaved")", layer));
  EXPECT_NE(error.find("/engine/moe_experts"), std::string::npos) << error;
  EXPECT_EQ(engine_error(engine_with(R"(, "moe_experts": "sequential")", layer)), "no error");
}

}  // namespace
}  // namespace servesim

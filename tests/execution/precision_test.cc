// Precision as an axis of the execution model: FP8 GEMMs on their own fitted curve, weight and KV
// bytes following their dtypes, datasheet-derived curves where a GPU has no FP8 measurements.
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "models/execution/op_level_model.h"
#include "models/llm/model_math.h"
#include "sim/config/spec_readers.h"

namespace servesim {
namespace {

Deployment deployment_on(const std::string& hardware, const std::string& model, const Precision& precision,
                         const std::string& engine = "reference-graph") {
  Deployment d;
  d.node = load_node(hardware);
  d.model = load_model(model);
  d.engine = load_engine(engine);
  set_precision(d, precision);
  return d;
}

Precision fp8_w8a8(DType kv = DType::kBf16) { return Precision{DType::kFp8, DType::kFp8, kv}; }

// System: one H200, the shipped calibration (bf16 fit + the FP8 fit of h200_fp8_gemm.json).
// Input: the Llama-3-8B gate+up GEMM at M = 8192 (compute bound in both dtypes: 7 x 224 x 64 tiles).
// Expectation: each time is its curve's closed form, latency + 2MNK (tiles + h) / tiles / rate,
// with the fitted (boost-clock) rate; so bf16 / FP8 time is about the rate ratio.
TEST(Precision, Fp8GemmOfAComputeBoundShapeIsFasterByTheFittedRateRatio) {
  const GpuSpec gpu = load_node("h200-sxm").gpu;
  ASSERT_TRUE(gpu.efficiency.gemm_fp8.measured) << "the shipped h200-sxm calibration has an FP8 fit";
  const GpuEfficiency bf16 = iteration_efficiency(effective_efficiency(gpu));
  const GpuEfficiency fp8 = iteration_efficiency(with_gemm_curve(effective_efficiency(gpu), gemm_curve(gpu, DType::kFp8)));
  const double m = 8192.0, n = 28672.0, k = 4096.0, tiles = 64.0 * 224.0;
  const GemmCost a = gemm_cost(bf16, gpu.sms, m, n, k, 2.0);
  const GemmCost b = gemm_cost(fp8, gpu.sms, m, n, k, 1.0, 1.0);
  ASSERT_EQ(a.bound, Bound::kCompute);
  ASSERT_EQ(b.bound, Bound::kCompute);
  const double flops = 2.0 * m * n * k;
  const GemmCurve& c = gpu.efficiency.gemm_fp8;
  const double rate8 = c.flops_per_s;
  const double rate16 = gpu.efficiency.gemm_flops_per_s;
  EXPECT_NEAR(b.seconds, c.latency_s + flops * (tiles + c.half_tiles) / tiles / rate8, 1e-12);
  EXPECT_NEAR(a.seconds / b.seconds, rate8 / rate16, 0.03 * rate8 / rate16);
  // The FP8 GEMM moves half the weight and input bytes (the bf16 output stays 2 bytes per element).
  EXPECT_DOUBLE_EQ(b.bytes, m * k + n * k + 2.0 * m * n);
}

// Llama-3.1-8B with FP8 weights: the transformer layers' bytes halve exactly; the embedding and LM
// head (2 x 128256 x 4096, untied) stay bf16.
TEST(Precision, Fp8WeightsHalveTheLayerBytesAndKeepEmbeddingAndLmHeadBf16) {
  const ModelSpec bf16 = deployment_on("h200-sxm", "llama-3.1-8b", Precision{}).model;
  const ModelSpec fp8 = deployment_on("h200-sxm", "llama-3.1-8b", fp8_w8a8()).model;
  const double embedding = embedding_params(bf16);
  EXPECT_DOUBLE_EQ(embedding, 2.0 * 128256.0 * 4096.0);
  EXPECT_DOUBLE_EQ(weight_bytes(fp8) - 2.0 * embedding, (weight_bytes(bf16) - 2.0 * embedding) / 2.0);
  const KvBudget a = kv_budget(deployment_on("h200-sxm", "llama-3.1-8b", Precision{}), 0.9, 8192);
  const KvBudget b = kv_budget(deployment_on("h200-sxm", "llama-3.1-8b", fp8_w8a8()), 0.9, 8192);
  EXPECT_DOUBLE_EQ(b.weights_bytes_per_gpu, (a.weights_bytes_per_gpu + 2.0 * embedding) / 2.0);
}

// The KV cache in FP8 halves the bytes per token, so twice the tokens (and KV blocks of 16) fit in
// the same free memory: capacity = floor(free / (bytes per token / 2)).
TEST(Precision, Fp8KvCacheFitsTwiceTheKvBlocks) {
  const Precision bf16_kv{DType::kBf16, DType::kBf16, DType::kBf16};
  const Precision fp8_kv{DType::kBf16, DType::kBf16, DType::kFp8};
  Deployment d = deployment_on("h100-sxm", "llama-3.1-70b", fp8_kv, "vllm");
  d.plan.tp = 4;
  Deployment e = deployment_on("h100-sxm", "llama-3.1-70b", bf16_kv, "vllm");
  e.plan.tp = 4;
  const KvBudget b = kv_budget(d, 0.9, 8192);
  const KvBudget c = kv_budget(e, 0.9, 8192);
  EXPECT_DOUBLE_EQ(b.kv_bytes_per_token_per_gpu, c.kv_bytes_per_token_per_gpu / 2.0);
  EXPECT_DOUBLE_EQ(b.weights_bytes_per_gpu, c.weights_bytes_per_gpu);
  const double free_bytes = c.gpu_memory_bytes * 0.9 - c.weights_bytes_per_gpu - c.activation_reserve_bytes;
  EXPECT_EQ(b.capacity_tokens, static_cast<int64_t>(std::floor(free_bytes / b.kv_bytes_per_token_per_gpu)));
  const int64_t blocks_bf16 = c.capacity_tokens / 16, blocks_fp8 = b.capacity_tokens / 16;
  EXPECT_GE(blocks_fp8, 2 * blocks_bf16);
  EXPECT_LE(blocks_fp8, 2 * blocks_bf16 + 1);
}

// Decode attention streams the KV cache: with FP8 KV its bytes halve (same context, same batch),
// and so does its time above the fixed term.
TEST(Precision, Fp8KvCacheHalvesDecodeAttentionBytes) {
  const Deployment a = deployment_on("h200-sxm", "llama-3.1-8b", Precision{});
  const Deployment b = deployment_on("h200-sxm", "llama-3.1-8b", Precision{DType::kBf16, DType::kBf16, DType::kFp8});
  const BatchShape batch{{Segment{64, 1, 4096}}};
  auto attention_s = [&](const Deployment& d) {
    for (const OpCost& op : OpLevelExecutionModel(d).predict(batch).ops) {
      if (op.name == "attention") return op.seconds;
    }
    return -1.0;
  };
  const GpuEfficiency eff = iteration_efficiency(effective_efficiency(a.node.gpu));
  const double layers = 32.0, kv_bytes = 64.0 * 4097.0 * 2.0 * 8.0 * 128.0 * 2.0;  // per layer, bf16
  // 64 sequences x 8 KV heads stream at 512 / (512 + half) of the fitted bandwidth, in either dtype.
  const double items = 64.0 * 8.0;
  const double per_byte = (items + eff.attention_decode_half_heads) / items / eff.attention_decode_bytes_per_s;
  const double fixed = eff.attention_decode_latency_s + 64.0 * eff.attention_decode_sequence_s;
  EXPECT_NEAR(attention_s(a), layers * (fixed + kv_bytes * per_byte), 1e-12);
  EXPECT_NEAR(attention_s(b), layers * (fixed + kv_bytes / 2.0 * per_byte), 1e-12);
}

// A GPU with a bf16 calibration only (H100 SXM) gets the FP8 curve as the bf16 fit with its rates x
// the FP8 / bf16 rate ratio its catalog entry carries (1.80, measured on the H200's same tensor cores),
// flagged not measured; FP8 GEMMs then carry datasheet provenance (nothing measured on this GPU).
TEST(Precision, GpusWithoutFp8MeasurementsDeriveTheCurveFromTheBf16FitTimesTheMeasuredRatio) {
  const GpuSpec gpu = load_node("h100-sxm").gpu;
  ASSERT_FALSE(gpu.efficiency.gemm_fp8.measured);
  ASSERT_EQ(gpu.fp8_gemm_rate_ratio, 1.80);
  const GemmCurve c = gemm_curve(gpu, DType::kFp8);
  EXPECT_FALSE(c.measured);
  EXPECT_DOUBLE_EQ(c.flops_per_s, gpu.efficiency.gemm_flops_per_s * 1.80);
  EXPECT_DOUBLE_EQ(c.bytes_per_s, gpu.efficiency.gemm_bytes_per_s);
  EXPECT_DOUBLE_EQ(c.latency_s, gpu.efficiency.gemm_latency_s);
  EXPECT_EQ(c.source.rfind("derived: bf16 GEMM curve x 1.80", 0), 0u) << c.source;
  const Deployment d = deployment_on("h100-sxm", "llama-3.1-8b", fp8_w8a8());
  for (const OpCost& op : OpLevelExecutionModel(d).predict(BatchShape{{Segment{1, 2048, 0}}}).ops) {
    if (op.name == "qkv_proj") {
      EXPECT_EQ(op.dtype, "fp8");
      EXPECT_EQ(op.provenance, Provenance::kDatasheet);
    }
    if (op.name == "lm_head") {
      EXPECT_EQ(op.dtype, "bf16");
    }
  }
}

// Without a measured ratio in its catalog entry (B200: other tensor cores) the FP8 curve takes the
// dense peaks' ratio (4,500 / 2,250), flagged datasheet-derived.
TEST(Precision, WithoutAMeasuredRatioTheFp8CurveTakesTheDensePeakRatio) {
  const GpuSpec gpu = load_node("b200").gpu;
  ASSERT_EQ(gpu.fp8_gemm_rate_ratio, 0.0);
  const GemmCurve c = gemm_curve(gpu, DType::kFp8);
  const double ratio = gpu.fp8_flops_per_s / gpu.bf16_flops_per_s;
  EXPECT_NEAR(ratio, 2.0, 1e-3);
  EXPECT_DOUBLE_EQ(c.flops_per_s, effective_efficiency(gpu).gemm_flops_per_s * ratio);
  EXPECT_EQ(c.source.rfind("datasheet-derived", 0), 0u) << c.source;
}

// An FP8 prefill iteration pays one cast kernel before each of the 4 layer GEMMs: bf16 in, FP8 out,
// 3 bytes per input element, plus the graph kernel floor; the LM head stays a bf16 GEMM.
TEST(Precision, EachFp8LayerGemmPaysOneCastOfItsInput) {
  const Deployment d = deployment_on("h200-sxm", "llama-3.1-8b", fp8_w8a8());
  const double tokens = 2048.0;
  const IterationPrediction p = OpLevelExecutionModel(d).predict(BatchShape{{Segment{1, 2048, 0}}});
  const GpuEfficiency eff = iteration_efficiency(effective_efficiency(d.node.gpu));
  // widths of the inputs: qkv 4096, o 4096, gate_up 4096, down 14336
  const double bytes = 32.0 * tokens * 3.0 * (4096.0 * 3.0 + 14336.0);
  bool found = false;
  for (const OpCost& op : p.ops) {
    if (op.name != "fp8_cast") continue;
    found = true;
    EXPECT_EQ(op.count, 4 * 32);
    EXPECT_NEAR(op.seconds, 4.0 * 32.0 * eff.graph_kernel_s + bytes / eff.elementwise_bytes_per_s, 1e-12);
  }
  EXPECT_TRUE(found);
  // FP8 makes this compute-bound prefill faster than bf16 (GEMMs ~ 2x, the rest unchanged).
  const double bf16_s =
      OpLevelExecutionModel(deployment_on("h200-sxm", "llama-3.1-8b", Precision{})).predict(BatchShape{{Segment{1, 2048, 0}}}).iteration_s;
  EXPECT_LT(p.iteration_s, 0.8 * bf16_s);
}

}  // namespace
}  // namespace servesim

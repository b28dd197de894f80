// Every catalog entry loads with its units, and the model catalog's parameter
// counts match the published sizes.
#include <gtest/gtest.h>

#include "models/llm/model_math.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"

namespace servesim {
namespace {

TEST(Catalog, EveryHardwareEntryLoadsWithPositivePeaks) {
  const auto names = catalog_names(kHardwareCatalog);
  ASSERT_EQ(names.size(), 7u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const NodeSpec node = load_node(name);
    EXPECT_GT(node.gpu.bf16_flops_per_s, 1e14);
    EXPECT_GT(node.gpu.hbm_bytes, 4e10);
    EXPECT_GT(node.gpu.hbm_bytes_per_s, 1e12);
    EXPECT_GT(node.gpu.tdp_w, node.gpu.idle_w);
    EXPECT_GT(node.cpu.launch_s, 0.0);
    EXPECT_GT(node.host_link.h2d_bytes_per_s, 0.0);
    EXPECT_GT(node.host_link.d2h_bytes_per_s, 0.0);
    EXPECT_GT(node.fabric.bytes_per_s, 0.0);
  }
}

TEST(Catalog, H100AndH200LoadTheirShippedCalibrations) {
  EXPECT_TRUE(load_node("h100-sxm").gpu.efficiency.calibrated);
  EXPECT_TRUE(load_node("h200-sxm").gpu.efficiency.calibrated);
  EXPECT_FALSE(load_node("b200").gpu.efficiency.calibrated);
}

TEST(Catalog, H200SxmHasItsDatasheetAndMeasuredNumbers) {
  const NodeSpec node = load_node("h200-sxm");
  EXPECT_DOUBLE_EQ(node.gpu.hbm_bytes, 150109880320.0);  // what the CUDA runtime reports on our H200
  EXPECT_DOUBLE_EQ(node.gpu.hbm_bytes_per_s, 4.8e12);
  EXPECT_DOUBLE_EQ(node.gpu.bf16_flops_per_s, 989.4e12);
  EXPECT_EQ(node.gpu.sms, 132);
}

TEST(Catalog, EveryModelEntryLoads) {
  const auto names = catalog_names(kModelCatalog);
  ASSERT_EQ(names.size(), 9u);
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const ModelSpec model = load_model(name);
    EXPECT_GT(total_params(model), 1e9);
  }
}

// Published sizes: Llama-3.1-70B 70.6 B, 405B 405.9 B, Llama-2-7B 6.74 B, Mixtral-8x7B 46.7 B,
// Qwen2.5-72B 72.7 B (incl. biases we omit), DeepSeek-V3 671 B (without its 14 B MTP module).
TEST(ModelMath, ParameterCountsMatchThePublishedSizes) {
  EXPECT_NEAR(total_params(load_model("llama-3.1-70b")) / 1e9, 70.6, 0.4);
  EXPECT_NEAR(total_params(load_model("llama-3.1-405b")) / 1e9, 405.9, 2.0);
  EXPECT_NEAR(total_params(load_model("llama-2-7b")) / 1e9, 6.74, 0.05);
  EXPECT_NEAR(total_params(load_model("mixtral-8x7b")) / 1e9, 46.7, 0.3);
  EXPECT_NEAR(total_params(load_model("qwen2.5-72b")) / 1e9, 72.7, 0.5);
  EXPECT_NEAR(total_params(load_model("deepseek-v3")) / 1e9, 671.0, 10.0);
}

TEST(ModelMath, MlaCachesTheCompressedLatentPerToken) {
  // DeepSeek-V3: (kv_lora_rank 512 + rope 64) x 2 bytes per token per layer.
  EXPECT_DOUBLE_EQ(kv_bytes_per_token_per_layer(load_model("deepseek-v3")), (512.0 + 64.0) * 2.0);
}

TEST(Catalog, EveryEngineEntryLoads) {
  for (const char* name : {"reference-graph", "reference-eager", "vllm"}) {
    SCOPED_TRACE(name);
    const EngineProfile engine = load_engine(name);
    EXPECT_FALSE(engine.layer.empty());
  }
  EXPECT_TRUE(load_engine("reference-graph").graph_decode);
  EXPECT_FALSE(load_engine("reference-eager").graph_decode);
}

TEST(Catalog, UnknownNameListsTheAvailableOnes) {
  try {
    load_model("llama-9");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "model: unknown model 'llama-9'; available: codellama-34b, deepseek-v3, llama-2-70b, llama-2-7b, "
                 "llama-3.1-405b, llama-3.1-70b, llama-3.1-8b, mixtral-8x7b, qwen2.5-72b");
  }
}

}  // namespace
}  // namespace servesim

// Claims about reading a sweep file: plan order and what each plan's config is.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/config_error.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/cli/process.h"

namespace servesim {
namespace {

SweepSpec spec_from(const std::string& text) {
  const std::string path = testing::make_temp_dir() + "/sweep.json";
  testing::write_file(path, text);
  return read_sweep_spec(path);
}

TEST(SweepSpec, PlansAreTheProductInAxisOrderWithTheLastAxisFastest) {
  // Axes given as /plan/tp then /hardware (not alphabetical): plan 1 changes /hardware.
  const SweepSpec spec = spec_from(R"({"base": {"plan": {"tp": 1}, "hardware": "x"},
      "axes": {"/plan/tp": [1, 2, 4], "/hardware": ["h100-sxm", "h200-sxm"]}})");
  ASSERT_EQ(spec.plans(), 6u);
  EXPECT_EQ(spec.config(0)["plan"]["tp"], 1);
  EXPECT_EQ(spec.config(0)["hardware"], "h100-sxm");
  EXPECT_EQ(spec.config(1)["plan"]["tp"], 1);
  EXPECT_EQ(spec.config(1)["hardware"], "h200-sxm");
  EXPECT_EQ(spec.config(5)["plan"]["tp"], 4);
  EXPECT_EQ(spec.config(5)["hardware"], "h200-sxm");
}

TEST(SweepSpec, TheThousandPlanExampleHasOneThousandPlansOfLlama70bOnOneTo64Gpus) {
  // workloads/examples/sweep_1000_plans_70b.json, what sweep_speed_bench times: 5 x 4 x 5 x 5 x 2 plans,
  // TP x DP from 1 x 1 to 8 x 8, all replaying the Azure conversation trace.
  const SweepSpec spec = read_sweep_spec(std::string(SERVESIM_TEST_DATA_DIR) +
                                         "/../../workloads/examples/sweep_1000_plans_70b.json");
  ASSERT_EQ(spec.plans(), 1000u);
  int64_t fewest = 1 << 30, most = 0;
  for (std::size_t i = 0; i < spec.plans(); ++i) {
    const auto config = spec.config(i);
    EXPECT_EQ(config["model"], "llama-3.1-70b");
    EXPECT_EQ(config["workload"]["trace"]["format"], "azure");
    const int64_t gpus = config["plan"]["tp"].get<int64_t>() * config["plan"]["dp"].get<int64_t>();
    fewest = std::min(fewest, gpus);
    most = std::max(most, gpus);
  }
  EXPECT_EQ(fewest, 1);
  EXPECT_EQ(most, 64);
}

TEST(SweepSpec, AnAxisMayAddAKeyTheBaseLeavesOut) {
  const SweepSpec spec = spec_from(R"({"base": {"plan": {"tp": 1}}, "axes": {"/plan/dp": [1, 2]}})");
  EXPECT_EQ(spec.config(1)["plan"], (nlohmann::ordered_json{{"tp", 1}, {"dp", 2}}));
}

TEST(SweepSpec, DefaultObjectivesAreTokensPerGpuUpAndTailLatenciesDown) {
  const SweepSpec spec = spec_from(R"({"base": {"plan": {}}, "axes": {"/plan/tp": [1]}})");
  ASSERT_EQ(spec.objectives.size(), 3u);
  EXPECT_EQ(spec.objectives[0].metric, "output_tokens_per_s_per_gpu");
  EXPECT_TRUE(spec.objectives[0].maximize);
  EXPECT_EQ(spec.objectives[1].metric, "ttft_p99_s");
  EXPECT_FALSE(spec.objectives[1].maximize);
  EXPECT_EQ(spec.objectives[2].metric, "tpot_p99_s");
}

// Variants are a first axis named "variant" (slowest): each applies its changes
// (null removes a key) before the other axes set theirs.
TEST(SweepSpec, VariantsComeFirstAndApplyTheirChangesIncludingRemovals) {
  const SweepSpec spec = spec_from(R"({"base": {"plan": {"tp": 4, "dp": 2}, "hardware": "x"},
      "variants": {"co-located": {"/plan/dp": 2},
                   "disaggregated": {"/plan": null, "/disaggregation": {"prefill": {"tp": 4}}}},
      "axes": {"/hardware": ["a", "b"]}})");
  ASSERT_EQ(spec.plans(), 4u);
  ASSERT_EQ(spec.axes.size(), 2u);
  EXPECT_EQ(spec.axes[0].pointer, "variant");
  EXPECT_EQ(spec.config(1)["plan"]["dp"], 2);
  EXPECT_EQ(spec.config(1)["hardware"], "b");
  const nlohmann::ordered_json third = spec.config(2);
  EXPECT_FALSE(third.contains("plan"));
  EXPECT_EQ(third["disaggregation"]["prefill"]["tp"], 4);
  EXPECT_EQ(third["hardware"], "a");
  const nlohmann::ordered_json resolved = spec.resolved();
  EXPECT_EQ(resolved["variants"]["disaggregated"]["/plan"], nullptr);
  EXPECT_EQ(resolved["axes"].size(), 1u);
  // Variants alone make a sweep; a variant without changes is the base as it is.
  const SweepSpec alone = spec_from(R"({"base": {"plan": {}}, "variants": {"base": {}, "tp2": {"/plan/tp": 2}}})");
  EXPECT_EQ(alone.plans(), 2u);
  EXPECT_EQ(alone.config(0), alone.base);
}

TEST(SweepSpec, VariantMistakesNameTheirPointer) {
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"base": {"plan": {}}})", ": /axes: missing: give \"axes\": {\"/json/pointer\": [values...]} or \"variants\""},
           {R"({"base": {"plan": {}}, "variants": {}})", ": /variants: no variants: give at least one"},
           {R"({"base": {"l": [1, 2]}, "variants": {"a": {"/l/0": null}}})",
            ": /variants/a/~1l~10: null removes a key, so it needs an object member, not an array element"},
           {R"({"base": {"plan": {}}, "variants": {"a": {"/missing/tp": 1}}})",
            ": /variants/a/~1missing~1tp: does not resolve in the base config: /missing is missing"}}) {
    try {
      spec_from(text);
      ADD_FAILURE() << "expected ConfigError for " << text;
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
  }
}

TEST(SweepSpec, OverlappingAxesAreRejected) {
  try {
    spec_from(R"({"base": {"plan": {"tp": 1}}, "axes": {"/plan": [{}], "/plan/tp": [1]}})");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(": /axes/~1plan~1tp: overlaps axis /plan"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace servesim

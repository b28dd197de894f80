// Claims about reading a sweep file: plan order and what each plan's config is.
#include <gtest/gtest.h>

#include <string>

#include "sim/config_error.h"
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

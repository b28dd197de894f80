// Golden runs: tests/golden/<case>/config.json must reproduce the summary values in
// expected.json within its relative tolerance. A deliberate model change updates them
// with tests/golden/update.py; an accidental one fails here.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, RunReproducesTheExpectedSummaryValues) {
  const fs::path dir = fs::path(SERVESIM_TEST_DATA_DIR) / ".." / "golden" / GetParam();
  const nlohmann::json expected = nlohmann::json::parse(read_file(dir / "expected.json"));
  const fs::path out = make_temp_dir();
  auto result = run_servesim("run " + (dir / "config.json").string() + " --out " + (out / "run").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json summary = nlohmann::json::parse(read_file(out / "run" / "summary.json"));
  const double tolerance = expected.at("relative_tolerance").get<double>();
  for (const auto& [pointer, value] : expected.at("summary").items()) {
    const nlohmann::json& actual = summary.at(nlohmann::json::json_pointer(pointer));
    const double want = value.get<double>();
    EXPECT_NEAR(actual.get<double>(), want, tolerance * std::max(1.0, std::fabs(want))) << GetParam() << pointer;
  }
  fs::remove_all(out);
}

INSTANTIATE_TEST_SUITE_P(Cases, Golden, ::testing::Values("default", "swap_gh200", "router_dp2", "disaggregated", "pipeline_tp4pp2"));

}  // namespace
}  // namespace servesim

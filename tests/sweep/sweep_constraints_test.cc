// Claims about constraints and cost in `servesim sweep`: plans that miss a
// constraint are named in sweep.csv and never on the front; gpus and cost are
// objectives; cost is GPUs x the catalog's on-demand price (or the sweep's
// override), never a made-up number for an unpriced GPU; bad constraints are
// bad input with the file and JSON pointer.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/config_error.h"
#include "sim/sweep/sweep_spec.h"
#include "tests/cli/process.h"
#include "tests/sweep/sweep_fixture.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::column_of;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::split_cells;
using testing::split_lines;
using testing::sweep_text;
using testing::write_file;

// The H100 SXM catalog entry's on-demand price (hardware/catalog/h100-sxm.json).
constexpr double kH100UsdPerGpuHour = 3.99;

struct Sweep {
  int exit_code = -1;
  std::string err;
  std::vector<std::string> rows;   // sweep.csv lines, header first
  std::vector<std::string> front;  // pareto.csv lines, header first
  nlohmann::json resolved;
};

Sweep run_sweep_file(const std::string& text) {
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", text);
  const auto result = run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --out " + (dir / "out").string());
  Sweep sweep;
  sweep.exit_code = result.exit_code;
  sweep.err = result.err;
  sweep.rows = split_lines(read_file(dir / "out" / "sweep.csv"));
  sweep.front = split_lines(read_file(dir / "out" / "pareto.csv"));
  const std::string resolved = read_file(dir / "out" / "sweep.resolved.json");
  if (!resolved.empty()) sweep.resolved = nlohmann::json::parse(resolved);
  fs::remove_all(dir);
  return sweep;
}

std::string cell(const Sweep& sweep, std::size_t row, const std::string& column) {
  const int at = column_of(sweep.rows.at(0), column);
  EXPECT_GE(at, 0) << column;
  return split_cells(sweep.rows.at(row + 1)).at(static_cast<std::size_t>(at));
}

TEST(SweepConstraints, PlansMissingAConstraintAreNamedAndKeptOffTheFront) {
  // TP 1 / 2 / 4 of an 8B model: "gpus <= 2" rules out TP 4, and maximizing tokens/s
  // per GPU alone would pick TP 1 anyway; so make the objective min TTFT p99, which
  // TP 4 wins unconstrained (most compute per request). With the constraint, the
  // front holds only plans with at most 2 GPUs, and TP 4's row names "gpus".
  const Sweep sweep = run_sweep_file(
      sweep_text(R"({"/plan/tp": [1, 2, 4]})", R"(, "objectives": [{"metric": "ttft_p99_s", "goal": "min"}],
                     "constraints": {"gpus": "<= 2", "tpot_p99_s": "<= 1 s"})"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  ASSERT_EQ(sweep.rows.size(), 4u);
  EXPECT_EQ(cell(sweep, 0, "violated"), "");
  EXPECT_EQ(cell(sweep, 1, "violated"), "");
  EXPECT_EQ(cell(sweep, 2, "violated"), "gpus");
  EXPECT_EQ(cell(sweep, 2, "status"), "ok");  // it ran; it only misses a constraint
  ASSERT_EQ(sweep.front.size(), 2u);
  EXPECT_NE(split_cells(sweep.front[1])[0], "2");
  EXPECT_EQ(sweep.resolved["constraints"]["gpus"], "<= 2");
  EXPECT_EQ(sweep.resolved["constraints"]["tpot_p99_s"], "<= 1 s");
}

TEST(SweepConstraints, EveryViolatedConstraintIsNamedInSpecOrder) {
  // 20 req/s on one H100 meets neither a 1 us TTFT nor a 1 us TPOT, nor an attainment above 1.
  const Sweep sweep = run_sweep_file(sweep_text(
      R"({"/plan/tp": [1]})",
      R"(, "constraints": {"ttft_p99_s": "< 1 us", "slo_attainment": "> 1", "tpot_p99_s": "<= 1us", "gpus": ">= 1"})"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_EQ(cell(sweep, 0, "violated"), "ttft_p99_s slo_attainment tpot_p99_s");
  EXPECT_EQ(sweep.front.size(), 1u);  // header only: nothing meets the constraints
}

TEST(SweepConstraints, ConstraintValuesAreParsedWithTheirUnits) {
  const std::string path = make_temp_dir() + "/sweep.json";
  write_file(path, sweep_text(R"({"/plan/tp": [1]})", R"(, "constraints": {"ttft_p99_s": "<= 1 s",
      "tpot_p99_s": "<50 ms", "slo_attainment": ">= 0.9", "gpus": "<= 16", "j_per_output_token": "<= 500 mJ",
      "cost_per_hour": "< 100"})"));
  const SweepSpec spec = read_sweep_spec(path);
  ASSERT_EQ(spec.constraints.size(), 6u);
  EXPECT_EQ(spec.constraints[0].bound, 1.0);
  EXPECT_EQ(spec.constraints[0].op, SweepConstraint::Op::kAtMost);
  EXPECT_DOUBLE_EQ(spec.constraints[1].bound, 0.05);
  EXPECT_EQ(spec.constraints[1].op, SweepConstraint::Op::kBelow);
  EXPECT_EQ(spec.constraints[2].bound, 0.9);
  EXPECT_EQ(spec.constraints[2].op, SweepConstraint::Op::kAtLeast);
  EXPECT_EQ(spec.constraints[3].bound, 16.0);
  EXPECT_DOUBLE_EQ(spec.constraints[4].bound, 0.5);
  EXPECT_EQ(spec.constraints[5].bound, 100.0);
  // The comparison is as written: <= holds at the bound, < does not; NaN never holds.
  EXPECT_TRUE(spec.constraints[0].holds(1.0));
  EXPECT_FALSE(spec.constraints[5].holds(100.0));
  EXPECT_FALSE(spec.constraints[2].holds(std::nan("")));
}

// A constraint that cannot be read: exit 2, one line naming the sweep file and the JSON pointer.
void expect_bad_constraint(const std::string& constraints, const std::string& message) {
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  write_file(path, sweep_text(R"({"/plan/tp": [1]})", ", \"constraints\": " + constraints));
  const auto result = run_servesim("sweep " + path + " --out " + (dir / "out").string());
  EXPECT_EQ(result.exit_code, 2) << constraints;
  EXPECT_EQ(result.err, "servesim: error: " + path + ": " + message + "\n");
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

TEST(SweepConstraints, BadConstraintsAreBadInputNamingFileAndPointer) {
  expect_bad_constraint(R"({"ttft_p99_s": "1 s"})",
                        "/constraints/ttft_p99_s: bad constraint \"1 s\": no comparison; give \"OP VALUE\" with OP one "
                        "of <=, <, >=, > (e.g. \"<= 1 s\", \">= 0.9\")");
  expect_bad_constraint(R"({"ttft_p99_s": "<= 1 GB"})",
                        "/constraints/ttft_p99_s: bad constraint \"<= 1 GB\": unit 'GB' has the wrong dimension "
                        "(expected a duration, e.g. \"1.5 us\")");
  expect_bad_constraint(R"({"tpot_p99_s": "<= 50"})",
                        "/constraints/tpot_p99_s: bad constraint \"<= 50\": missing unit (expected a duration, e.g. "
                        "\"1.5 us\")");
  expect_bad_constraint(R"({"gpus": "<= 16 GPUs"})",
                        "/constraints/gpus: bad constraint \"<= 16 GPUs\": expected a plain number (gpus has no unit "
                        "string), got '16 GPUs'");
  expect_bad_constraint(R"({"slo_attainment": ">="})",
                        "/constraints/slo_attainment: bad constraint \">=\": no value after the comparison; give \"OP "
                        "VALUE\" with OP one of <=, <, >=, > (e.g. \"<= 1 s\", \">= 0.9\")");
  expect_bad_constraint(R"({"gpus": 16})",
                        "/constraints/gpus: expected a string, got 16; give \"OP VALUE\" with OP one of <=, <, >=, > "
                        "(e.g. \"<= 1 s\", \">= 0.9\")");
  expect_bad_constraint(R"({"latency": "<= 1 s"})",
                        "/constraints/latency: unknown metric 'latency'; allowed: gpus, requests_per_s, "
                        "output_tokens_per_s_per_gpu, goodput_requests_per_s_per_gpu, ttft_p50_s, ttft_p99_s, "
                        "tpot_p50_s, tpot_p99_s, j_per_output_token, slo_attainment, cost_per_hour, "
                        "cost_per_million_output_tokens");
  expect_bad_constraint(R"([])", "/constraints: expected an object, got array");
}

TEST(SweepCost, CostIsGpusTimesTheCatalogPriceAndObjectivesMayBeGpusOrCost) {
  // TP 1 and TP 2 on H100 SXM: 1 x 3.99 and 2 x 3.99 USD an hour; per million output
  // tokens, the hourly cost over the output tokens of an hour. Minimizing gpus and
  // cost_per_hour: TP 1 dominates TP 2 (fewer GPUs, cheaper), the front is TP 1 alone.
  const Sweep sweep = run_sweep_file(sweep_text(
      R"({"/plan/tp": [1, 2]})",
      R"(, "objectives": [{"metric": "gpus", "goal": "min"}, {"metric": "cost_per_hour", "goal": "min"}])"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  for (std::size_t row : {0u, 1u}) {
    const double gpus = static_cast<double>(row + 1);
    EXPECT_DOUBLE_EQ(std::stod(cell(sweep, row, "cost_per_hour")), gpus * kH100UsdPerGpuHour);
    const double tokens_per_s = std::stod(cell(sweep, row, "output_tokens_per_s_per_gpu")) * gpus;
    EXPECT_NEAR(std::stod(cell(sweep, row, "cost_per_million_output_tokens")),
                gpus * kH100UsdPerGpuHour / (tokens_per_s * 3600.0) * 1e6, 1e-9);
  }
  ASSERT_EQ(sweep.front.size(), 2u);
  EXPECT_EQ(split_cells(sweep.front[1])[0], "0");
  // The price used is in sweep.resolved.json with its source and date.
  const auto& price = sweep.resolved["gpu_prices"]["h100-sxm"];
  EXPECT_EQ(price["usd_per_gpu_hour"], kH100UsdPerGpuHour);
  EXPECT_EQ(price["date"], "2026-09-25");
  EXPECT_NE(price["source"].get<std::string>().find("lambda.ai/pricing"), std::string::npos);
  EXPECT_EQ(price["given_in"], "hardware/catalog/h100-sxm.json");
}

TEST(SweepCost, TheSweepsPricesOverrideTheCatalogs) {
  const Sweep sweep = run_sweep_file(sweep_text(R"({"/plan/tp": [2]})", R"(, "prices": {"h100-sxm":
      {"usd_per_gpu_hour": 2.5, "date": "2026-01-02", "source": "our reserved contract"}})"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_EQ(std::stod(cell(sweep, 0, "cost_per_hour")), 5.0);
  EXPECT_EQ(sweep.resolved["prices"]["h100-sxm"]["source"], "our reserved contract");
  EXPECT_EQ(sweep.resolved["gpu_prices"]["h100-sxm"]["usd_per_gpu_hour"], 2.5);
}

TEST(SweepCost, DisaggregatedPoolsArePricedOnTheirOwnHardware) {
  // One TP-1 prefill replica on an H100 SXM (3.99) and one TP-1 decode replica on an A100 SXM 80 GB (2.79).
  const Sweep sweep = run_sweep_file(std::string(R"({"base": )") + testing::kSweepBase + R"(,
      "variants": {"split": {"/plan": null, "/disaggregation": {"prefill": {"tp": 1},
                   "decode": {"tp": 1, "hardware": "a100-sxm-80gb"}, "kv_link": {"bandwidth": "50 GB/s"}}}}})");
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_DOUBLE_EQ(std::stod(cell(sweep, 0, "cost_per_hour")), 3.99 + 2.79);
}

TEST(SweepCost, AnUnpricedGpuHasNoCostAndIsKeptOffACostFrontSayingSo) {
  // The same H100 node given inline without a price: no cost (an empty cell, not 0), and with
  // cost as an objective it cannot be on the front; its row and stderr say why.
  const nlohmann::json entry = nlohmann::json::parse(read_file(std::string(SERVESIM_TEST_DATA_DIR) +
                                                               "/../../hardware/catalog/h100-sxm.json"));
  nlohmann::json inline_node = entry;
  inline_node["gpu"].erase("price");
  inline_node["gpu"]["name"] = "unpriced-h100";
  const Sweep sweep = run_sweep_file(sweep_text(
      "{\"/hardware\": [\"h100-sxm\", " + inline_node.dump() + "]}",
      R"(, "objectives": [{"metric": "cost_per_million_output_tokens", "goal": "min"}])"));
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_NE(sweep.rows.at(2).find(",ok,\"not priced: inline unpriced-h100 has no GPU price"), std::string::npos)
      << sweep.rows.at(2);
  ASSERT_EQ(sweep.front.size(), 2u);
  EXPECT_EQ(split_cells(sweep.front[1])[0], "0");
  EXPECT_NE(sweep.err.find("servesim sweep: 1 plans not priced (no GPU price for inline unpriced-h100)"),
            std::string::npos)
      << sweep.err;
  EXPECT_EQ(sweep.resolved["gpu_prices"]["inline unpriced-h100"], "not priced");
}

TEST(SweepCost, PricesForUnknownHardwareOrWithoutASourceAreBadInput) {
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  for (const auto& [prices, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"h100": {"usd_per_gpu_hour": 2, "date": "2026-01-01", "source": "x"}})",
            "/prices/h100: no hardware catalog entry 'h100'; prices are given per entry: a100-sxm-80gb, b200, gb200, gh200, "
            "h100-pcie, h100-sxm, h200-sxm"},
           {R"({"h100-sxm": {"usd_per_gpu_hour": 2, "date": "2026-01-01"}})",
            "/prices/h100-sxm: missing required key 'source'"},
           {R"({"h100-sxm": {"usd_per_gpu_hour": 2, "date": "January", "source": "x"}})",
            "/prices/h100-sxm/date: expected the day the price was read as YYYY-MM-DD, got \"January\""},
           {R"({"h100-sxm": {"usd_per_gpu_hour": 0, "date": "2026-01-01", "source": "x"}})",
            "/prices/h100-sxm/usd_per_gpu_hour: must be more than 0"}}) {
    write_file(path, sweep_text(R"({"/plan/tp": [1]})", ", \"prices\": " + prices));
    const auto result = run_servesim("sweep " + path + " --out " + (dir / "out").string());
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.err, "servesim: error: " + path + ": " + message + "\n");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace servesim

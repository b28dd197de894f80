// Claims about the capacity search: the search itself against a known
// threshold, and `servesim sweep` with "capacity" against a closed-form queue
// (evenly spaced arrivals, a fixed service time, one request at a time: a
// D/D/1 queue whose p99 TTFT has an exact formula), plus what it reports.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/sweep/capacity_search.h"
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
using testing::write_file;

// Runs the search from `start` against "holds iff value <= threshold".
CapacitySearch search_against(double threshold, double start, double precision, int64_t max_sims) {
  CapacitySearch search(precision, max_sims, start / 1048576.0, start * 1048576.0);
  std::optional<double> value = start;
  while (value) {
    search.record(*value, *value <= threshold);
    value = search.next();
  }
  return search;
}

TEST(CapacitySearch, DoublesThenBisectsToTheRequestedPrecision) {
  // Threshold 7.3 from 1: 1, 2, 4 hold, 8 fails; then sqrt-bisection of [4, 8] until
  // 8-ish / best - 1 <= 1 %: log2(2) halves to below log2(1.01) = 0.01436 in 7 steps.
  const CapacitySearch search = search_against(7.3, 1.0, 0.01, 100);
  EXPECT_LE(search.best(), 7.3);
  EXPECT_GT(search.lowest_failing(), 7.3);
  EXPECT_LE(search.precision_reached(), 0.01);
  EXPECT_GE(search.best() * 1.01, 7.3);
  EXPECT_EQ(search.sims(), 4 + 7);
  EXPECT_EQ(search.stopped(), "precision reached");
}

TEST(CapacitySearch, HalvesWhenThePlansOwnRateFails) {
  const CapacitySearch search = search_against(0.3, 1.0, 0.05, 100);
  EXPECT_LE(search.best(), 0.3);
  EXPECT_GE(search.best() * 1.05, 0.3);
}

TEST(CapacitySearch, ABudgetStopsItAndSaysHowPreciseItGot) {
  // Five simulations: 1, 2, 4, 8 (fails), sqrt(32): the bracket is [4, 5.66] or [5.66, 8].
  const CapacitySearch search = search_against(7.3, 1.0, 0.01, 5);
  EXPECT_EQ(search.sims(), 5);
  EXPECT_EQ(search.stopped(), "simulation budget spent");
  EXPECT_NEAR(search.precision_reached(), std::sqrt(2.0) - 1.0, 1e-12);
}

TEST(CapacitySearch, LimitsEndASearchThatNeverFailsOrNeverHolds) {
  const CapacitySearch always = search_against(1e300, 1.0, 0.01, 100);
  EXPECT_EQ(always.best(), 1048576.0);
  EXPECT_TRUE(std::isnan(always.precision_reached()));
  EXPECT_EQ(always.stopped(), "the constraints hold up to the highest rate allowed");
  const CapacitySearch never = search_against(0.0, 1.0, 0.01, 100);
  EXPECT_TRUE(std::isnan(never.best()));
  EXPECT_EQ(never.stopped(), "the constraints fail down to the lowest rate allowed");
}

// 100 requests of 512 prompt and 16 output tokens, one a second (scaled by rate_scale), on
// Llama-3.1-8B / one H100 with one sequence at a time and no prefix caching: each request is
// served alone in a fixed time S (its prefill P, then 15 decodes), so with arrivals a = 1/s apart
// and S > a, request k starts k (S - a) late: TTFT_k = P + k (S - a). p99 (nearest rank) of 100
// is request 98's, so "ttft_p99_s <= T" holds iff 98 (S - 1/s) + P <= T, i.e. up to
// s* = 1 / (S - (T - P) / 98) requests/s.
const char* const kQueueConfig = R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
    "plan": {"tp": 1},
    "scheduler": {"impl": "vllm", "max_num_batched_tokens": 8192, "max_num_seqs": 1},
    "cache": {"impl": "paged", "block_tokens": 16, "prefix_caching": false, "preemption": "recompute"},
    "workload": {"trace": {"format": "jsonl", "path": "even.jsonl"}},
    "slo": {"ttft": "500 ms", "tpot": "50 ms"}})";

void write_even_trace(const fs::path& dir) {
  std::string trace;
  for (int k = 0; k < 100; ++k) {
    trace += "{\"arrival_s\": " + std::to_string(k) + ", \"input_tokens\": 512, \"output_tokens\": 16}\n";
  }
  write_file(dir / "even.jsonl", trace);
}

TEST(CapacityCommand, EvenlySpacedFixedServiceRequestsGiveTheClosedFormMaximumRate) {
  const fs::path dir = make_temp_dir();
  write_even_trace(dir);
  write_file(dir / "config.json", kQueueConfig);
  // S and P from the unscaled trace, where no request waits for another.
  ASSERT_EQ(run_servesim("run " + (dir / "config.json").string() + " --out " + (dir / "alone").string()).exit_code, 0);
  const std::vector<std::string> requests = split_lines(read_file(dir / "alone" / "requests.csv"));
  const std::string& header = requests.at(0);
  const std::vector<std::string> first = split_cells(requests.at(1));
  const double service_s = std::stod(first.at(static_cast<std::size_t>(column_of(header, "e2e_s"))));
  const double prefill_s = std::stod(first.at(static_cast<std::size_t>(column_of(header, "ttft_s"))));
  const double ttft_bound_s = 1.0;
  const double expected = 1.0 / (service_s - (ttft_bound_s - prefill_s) / 98.0);
  ASSERT_GT(expected, 2.0);  // well above the trace's own 1 request/s: the search has to go up

  write_file(dir / "sweep.json", R"({"base": "config.json", "axes": {"/plan/tp": [1]},
      "constraints": {"ttft_p99_s": "<= 1 s"}, "capacity": {"precision": 0.01, "max_sims": 20}})");
  const auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::vector<std::string> rows = split_lines(read_file(dir / "out" / "sweep.csv"));
  const std::vector<std::string> row = split_cells(rows.at(1));
  auto value = [&](const std::string& name) {
    return std::stod(row.at(static_cast<std::size_t>(column_of(rows[0], name))));
  };
  const double found = value("max_rate_req_s");
  EXPECT_LE(found, expected * (1.0 + 1e-9));
  EXPECT_GE(found * (1.0 + value("max_rate_precision")), expected);
  EXPECT_LE(value("max_rate_precision"), 0.01);
  EXPECT_EQ(value("max_rate_req_s_per_gpu"), found);
  // 1, 2, 4, 8 hold, 16 fails (expected is about 8.9), then bisection of [8, 16] to 1 %: 7 more.
  ASSERT_GT(expected, 8.0);
  ASSERT_LT(expected, 16.0);
  EXPECT_EQ(value("capacity_sims"), 12.0);

  // plan.json records every rate tried, in requests/s per unit of rate_scale (the trace's own 1/s).
  const auto plan = nlohmann::json::parse(read_file(dir / "out" / "runs" / "0" / "plan.json"));
  const auto& search = plan["capacity_search"];
  EXPECT_EQ(search["setting"], "/workload/trace/rate_scale");
  EXPECT_DOUBLE_EQ(search["req_s_per_setting"].get<double>(), 1.0);
  EXPECT_EQ(search["probes"].size(), 12u);
  EXPECT_EQ(search["stopped"], "precision reached");
  // Probes leave no run directories behind.
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir / "out" / "runs")) entries += entry.path().filename() == "0" ? 0 : 1;
  EXPECT_EQ(entries, 0u);
  fs::remove_all(dir);
}

TEST(CapacityCommand, CostPerMillionTokensAtTheMaxRateIsThePlansCostOverItsSaturatedThroughput) {
  // The D/D/1 queue above. At any rate above 1/S requests are served back to back from t = 0, so the
  // run ends at 100 S with 100 x 16 output tokens: 16 / S tokens/s. One H100 at its catalog price p
  // (USD per GPU-hour) then costs p / (16 / S x 3600) x 1e6 USD per million output tokens at the max
  // rate found (about 8/s > 1/S = 7.4/s); at the trace's own 1 request/s the run ends at 99 + S.
  const fs::path dir = make_temp_dir();
  write_even_trace(dir);
  write_file(dir / "config.json", kQueueConfig);
  ASSERT_EQ(run_servesim("run " + (dir / "config.json").string() + " --out " + (dir / "alone").string()).exit_code, 0);
  const std::vector<std::string> requests = split_lines(read_file(dir / "alone" / "requests.csv"));
  const double service_s = std::stod(
      split_cells(requests.at(1)).at(static_cast<std::size_t>(column_of(requests.at(0), "e2e_s"))));
  const double price = nlohmann::json::parse(read_file(fs::path(SERVESIM_TEST_DATA_DIR) / ".." / ".." / "hardware" /
                                                       "catalog" / "h100-sxm.json"))["gpu"]["price"]["usd_per_gpu_hour"]
                           .get<double>();
  write_file(dir / "sweep.json", R"({"base": "config.json", "axes": {"/plan/tp": [1]},
      "constraints": {"ttft_p99_s": "<= 1 s"}, "capacity": {"precision": 0.01, "max_sims": 20},
      "objectives": [{"metric": "max_rate_cost_per_million_output_tokens", "goal": "min"}]})");
  const auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::vector<std::string> rows = split_lines(read_file(dir / "out" / "sweep.csv"));
  const std::vector<std::string> row = split_cells(rows.at(1));
  auto value = [&](const std::string& name) {
    return std::stod(row.at(static_cast<std::size_t>(column_of(rows[0], name))));
  };
  ASSERT_GT(value("max_rate_req_s"), 1.0 / service_s);  // saturated
  const double at_max = price / (16.0 / service_s * 3600.0) * 1e6;
  const double at_own_rate = price / (1600.0 / (99.0 + service_s) * 3600.0) * 1e6;
  EXPECT_NEAR(value("max_rate_cost_per_million_output_tokens"), at_max, 1e-6 * at_max);
  EXPECT_NEAR(value("cost_per_million_output_tokens"), at_own_rate, 1e-6 * at_own_rate);
  // plan.json keeps the throughput it was priced on; the plan is the front of its one objective.
  const auto plan = nlohmann::json::parse(read_file(dir / "out" / "runs" / "0" / "plan.json"));
  EXPECT_NEAR(plan["capacity_search"]["max_rate_output_tokens_per_s"].get<double>(), 16.0 / service_s,
              1e-6 * 16.0 / service_s);
  EXPECT_EQ(split_lines(read_file(dir / "out" / "pareto.csv")).size(), 2u);
  fs::remove_all(dir);
}

TEST(CapacityCommand, TheRateFoundMeetsTheConstraintsAndOnePrecisionAboveDoesNot) {
  // A Poisson generator (fixed seed: arrival times scale exactly with the rate): rerun
  // `servesim run` at the rate found and at the rate one precision step above.
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/plan/tp": [1]})", R"(,
      "constraints": {"ttft_p99_s": "<= 200 ms"}, "capacity": {"precision": 0.02, "max_sims": 24})"));
  const auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto plan = nlohmann::json::parse(read_file(dir / "out" / "runs" / "0" / "plan.json"));
  const auto& search = plan["capacity_search"];
  ASSERT_EQ(search["stopped"], "precision reached") << search.dump();
  const double found = search["max_setting"].get<double>();
  EXPECT_EQ(search["max_rate_req_s"].get<double>(), found);  // a generator's rate is in requests/s
  double above = 1e300;  // the lowest rate tried at which the constraint failed
  for (const auto& probe : search["probes"]) {
    if (!probe["holds"].get<bool>()) above = std::min(above, probe["setting"].get<double>());
  }
  ASSERT_LE(above / found - 1.0, 0.02);
  for (const auto& [rate, holds] : std::vector<std::pair<double, bool>>{{found, true}, {above, false}}) {
    auto config = nlohmann::json::parse(testing::kSweepBase);
    config["workload"]["generator"]["rate"] = rate;
    write_file(dir / "config.json", config.dump());
    ASSERT_EQ(run_servesim("run " + (dir / "config.json").string() + " --out " + (dir / "run").string()).exit_code, 0);
    const double ttft_p99 =
        nlohmann::json::parse(read_file(dir / "run" / "summary.json"))["ttft_s"]["p99"].get<double>();
    EXPECT_EQ(ttft_p99 <= 0.2, holds) << "rate " << rate << " ttft p99 " << ttft_p99;
  }
  fs::remove_all(dir);
}

TEST(CapacityCommand, APlanMissingARateIndependentConstraintIsNotSearched) {
  // TP 2 has 2 GPUs at every rate: "gpus <= 1" fails however low the rate, so one simulation.
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/plan/tp": [2]})", R"(,
      "constraints": {"gpus": "<= 1", "ttft_p99_s": "<= 1 s"}, "capacity": {})"));
  const auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::vector<std::string> rows = split_lines(read_file(dir / "out" / "sweep.csv"));
  const std::vector<std::string> row = split_cells(rows.at(1));
  EXPECT_EQ(row.at(static_cast<std::size_t>(column_of(rows[0], "capacity_sims"))), "1");
  EXPECT_EQ(row.at(static_cast<std::size_t>(column_of(rows[0], "max_rate_req_s"))), "");
  const auto plan = nlohmann::json::parse(read_file(dir / "out" / "runs" / "0" / "plan.json"));
  EXPECT_EQ(plan["capacity_search"]["stopped"], "not searched: gpus fail at every rate");
  fs::remove_all(dir);
}

TEST(CapacityCommand, MaxRateIsAnObjective) {
  // Maximizing the rate each plan sustains per GPU: 256 sequences at a time beat 1.
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/scheduler/max_num_seqs": [1, 256]})", R"(,
      "objectives": [{"metric": "max_rate_req_s_per_gpu", "goal": "max"}],
      "constraints": {"ttft_p99_s": "<= 1 s"}, "capacity": {"precision": 0.1})"));
  const auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::vector<std::string> front = split_lines(read_file(dir / "out" / "pareto.csv"));
  ASSERT_EQ(front.size(), 2u);
  EXPECT_EQ(split_cells(front[1])[0], "1");
  fs::remove_all(dir);
}

TEST(CapacityCommand, CapacityWithoutConstraintsIsBadInput) {
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  write_file(path, testing::sweep_text(R"({"/plan/tp": [1]})", R"(, "capacity": {"precision": 0.01})"));
  const auto result = run_servesim("sweep " + path + " --out " + (dir / "out").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim: error: " + path +
                            ": /capacity: needs \"constraints\": the search finds the highest request rate at which "
                            "they all hold\n");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace servesim

// Claims about `servesim sweep` as a user sees it: rows in plan order whose
// metrics are exactly what `servesim run` gives, infeasible plans reported
// and skipped, outputs independent of --jobs, and strict input validation.
// Workloads are 200 requests of Llama-3.1-8B so the whole file runs in seconds.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/sweep/sweep_spec.h"
#include "tests/cli/process.h"
#include "tests/sweep/sweep_fixture.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::without_wall_time;
using testing::write_file;

const char* const kBase = testing::kSweepBase;
using testing::split_cells;
using testing::split_lines;
using testing::sweep_text;

TEST(SweepCommand, TwoByTwoSweepGivesFourRowsInPlanOrderEachEqualToItsRun) {
  // Axes /plan/tp [1, 2] then /scheduler/max_num_seqs [16, 256]: rows are
  // (1,16), (1,256), (2,16), (2,256). Each row's metrics equal the summary.json
  // of `servesim run` on that plan's config, and runs/<i> holds the same files.
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", sweep_text(R"({"/plan/tp": [1, 2], "/scheduler/max_num_seqs": [16, 256]})"));
  auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  EXPECT_NE(sweep.err.find("servesim sweep: 4/4 done"), std::string::npos) << sweep.err;

  const auto lines = split_lines(read_file(dir / "out" / "sweep.csv"));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0],
            "index,/plan/tp,/scheduler/max_num_seqs,status,reason,gpus,requests_per_s,output_tokens_per_s_per_gpu,"
            "goodput_requests_per_s_per_gpu,ttft_p50_s,ttft_p99_s,tpot_p50_s,tpot_p99_s,j_per_output_token,"
            "slo_attainment,cost_per_hour,cost_per_million_output_tokens,max_rate_req_s,max_rate_req_s_per_gpu,"
            "max_goodput_requests_per_s_per_gpu,max_rate_cost_per_million_output_tokens,max_rate_precision,capacity_sims,"
            "violated,datasheet_power");
  const int tp[] = {1, 1, 2, 2};
  const int seqs[] = {16, 256, 16, 256};
  for (int i = 0; i < 4; ++i) {
    const auto cells = split_cells(lines[static_cast<std::size_t>(i) + 1]);
    ASSERT_EQ(cells.size(), 25u) << lines[static_cast<std::size_t>(i) + 1];
    // The H100 SXM calibration has no power fit: its power ran on datasheet defaults.
    EXPECT_EQ(cells[24], "h100-sxm");
    EXPECT_EQ(cells[0], std::to_string(i));
    EXPECT_EQ(cells[1], std::to_string(tp[i]));
    EXPECT_EQ(cells[2], std::to_string(seqs[i]));
    EXPECT_EQ(cells[3], "ok");
    EXPECT_EQ(cells[4], "");
    EXPECT_EQ(cells[5], std::to_string(tp[i]));

    auto config = nlohmann::json::parse(kBase);
    config["plan"]["tp"] = tp[i];
    config["scheduler"]["max_num_seqs"] = seqs[i];
    const fs::path run_dir = dir / ("run" + std::to_string(i));
    write_file(dir / ("config" + std::to_string(i) + ".json"), config.dump());
    auto run = run_servesim("run " + (dir / ("config" + std::to_string(i) + ".json")).string() + " --out " +
                            run_dir.string());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto summary = nlohmann::json::parse(read_file(run_dir / "summary.json"));
    const double expected[] = {summary["throughput"]["requests_per_s"].get<double>(),
                               summary["throughput"]["output_tokens_per_s_per_gpu"].get<double>(),
                               summary["slo"]["goodput_requests_per_s"].get<double>() / tp[i],
                               summary["ttft_s"]["p50"].get<double>(),
                               summary["ttft_s"]["p99"].get<double>(),
                               summary["tpot_s"]["p50"].get<double>(),
                               summary["tpot_s"]["p99"].get<double>(),
                               summary["energy"]["j_per_output_token"].get<double>(),
                               summary["slo"]["attainment"].get<double>()};
    for (std::size_t k = 0; k < 9; ++k) {
      EXPECT_EQ(std::stod(cells[6 + k]), expected[k]) << "plan " << i << " " << sweep_metric_names()[k];
    }
    const fs::path plan_dir = dir / "out" / "runs" / std::to_string(i);
    // The same results; provenance names the sweep and plan there, the run's command here.
    EXPECT_EQ(testing::summary_results(read_file(plan_dir / "summary.json")),
              testing::summary_results(read_file(run_dir / "summary.json")));
    for (const char* name : {"requests.csv", "config.resolved.json", "kv_utilization.csv"}) {
      EXPECT_EQ(read_file(plan_dir / name), read_file(run_dir / name)) << "plan " << i << " " << name;
    }
  }
  EXPECT_TRUE(fs::exists(dir / "out" / "pareto.csv"));
  EXPECT_TRUE(fs::exists(dir / "out" / "sweep.resolved.json"));
  EXPECT_NE(sweep.out.find("Pareto front ("), std::string::npos) << sweep.out;
  fs::remove_all(dir);
}

// sweep.csv says which plans' GPU power ran on datasheet defaults: the H200's calibration has a
// power fit (its llama3_8b_energy table), the H100 SXM's and the GH200's have none; each row lists
// exactly the hardware of its plan without one, as its run's summary.json provenance does.
TEST(SweepCommand, DatasheetPowerColumnNamesThePlansWithoutAMeasuredPowerFit) {
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", sweep_text(R"({"/hardware": ["h200-sxm", "h100-sxm", "gh200"]})"));
  auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto lines = split_lines(read_file(dir / "out" / "sweep.csv"));
  ASSERT_EQ(lines.size(), 4u);
  const std::string expected[] = {"", "h100-sxm", "gh200"};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto cells = split_cells(lines[i + 1]);
    EXPECT_EQ(cells.back(), expected[i]) << lines[i + 1];
    const auto summary = nlohmann::json::parse(read_file(dir / "out" / "runs" / std::to_string(i) / "summary.json"));
    EXPECT_EQ(summary.at("provenance").at("gpus").at(0).at("power"), expected[i].empty() ? "measured" : "datasheet");
  }
}

TEST(SweepCommand, InfeasiblePlanIsReportedWithItsReasonAndTheOthersStillRun) {
  // Llama-3.1-70B at TP 1 on one H100 (80 GB) cannot hold its 131 GiB of weights.
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  write_file(path, sweep_text(R"({"/model": ["llama-3.1-8b", "llama-3.1-70b"], "/plan/tp": [1, 2]})"));
  auto sweep = run_servesim("sweep " + path + " --jobs 2 --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto lines = split_lines(read_file(dir / "out" / "sweep.csv"));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[3], "2,llama-3.1-70b,1,infeasible,\"" + path +
                          ": /plan: needs 134.2 GiB per GPU (weights 131.4 GiB + activations 2.5 GiB + non-torch 0.35 GiB), "
                          "has 71.3 GiB (90% of 79.2 GiB): short by 63.0 GiB\",,,,,,,,,,,,,,,,,,,,");
  for (std::size_t row : {1u, 2u, 4u}) EXPECT_EQ(split_cells(lines[row])[3], "ok") << lines[row];
  // The plan that did not run has only its plan.json (status and reason), no run outputs.
  EXPECT_TRUE(fs::exists(dir / "out" / "runs" / "2" / "plan.json"));
  EXPECT_FALSE(fs::exists(dir / "out" / "runs" / "2" / "summary.json"));
  EXPECT_TRUE(fs::exists(dir / "out" / "runs" / "3" / "summary.json"));
  // The infeasible plan is never on the front.
  EXPECT_EQ(read_file(dir / "out" / "pareto.csv").find("infeasible"), std::string::npos);
  fs::remove_all(dir);
}

// A base config mistake no axis touches fails every plan the same way: that is bad input
// (exit 2, one line naming the file and pointer), and nothing is left in DIR.
TEST(SweepCommand, EveryPlanFailingTheSameWayIsBadInputWithNothingWritten) {
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  std::string text = sweep_text(R"({"/plan/tp": [1, 2]})");
  text.replace(text.find("\"max_num_seqs\""), 14, "\"max_num_seqz\"");
  write_file(path, text);
  auto sweep = run_servesim("sweep " + path + " --jobs 2 --out " + (dir / "out").string());
  EXPECT_EQ(sweep.exit_code, 2);
  const std::string last_line = sweep.err.substr(sweep.err.rfind("servesim: error:"));
  EXPECT_EQ(last_line, "servesim: error: " + path +
                           ": /scheduler/max_num_seqz: unknown key 'max_num_seqz'; allowed: impl, long_prefill_token_"
                           "threshold, max_num_batched_tokens, max_num_seqs, micro_batches (every plan of the sweep fails this way)\n");
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

TEST(SweepCommand, OneJobAndTwoJobsGiveByteIdenticalOutputs) {
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json",
             sweep_text(R"({"/plan/tp": [1, 2, 4], "/scheduler/max_num_seqs": [16, 256]})"));
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 1 --out " + (dir / "a").string())
                .exit_code,
            0);
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --out " + (dir / "b").string())
                .exit_code,
            0);
  for (const char* name : {"sweep.csv", "pareto.csv", "pareto.svg", "sweep.resolved.json"}) {
    const std::string a = read_file(dir / "a" / name);
    EXPECT_FALSE(a.empty()) << name;
    EXPECT_EQ(a, read_file(dir / "b" / name)) << name;
  }
  fs::remove_all(dir);
}

// Variants compare structurally different plans in one sweep: the same 2 GPUs
// co-located (dp 2) and disaggregated (1 prefill + 1 decode replica). Each row
// names its variant, and each plan's config is the base with that variant's changes.
TEST(SweepCommand, VariantsCompareCoLocatedAndDisaggregatedPlans) {
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", std::string(R"({"base": )") + kBase + R"(,
      "variants": {"co-located": {"/plan/dp": 2},
                   "disaggregated": {"/plan": null, "/disaggregation": {"prefill": {"tp": 1}, "decode": {"tp": 1},
                                                                        "kv_link": {"bandwidth": "50 GB/s"}}}}})");
  const auto result = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string> lines = split_lines(read_file(dir / "out" / "sweep.csv"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("index,variant,status,reason,gpus,", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1].rfind("0,co-located,ok,,2,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("1,disaggregated,ok,,2,", 0), 0u) << lines[2];
  const auto resolved = nlohmann::json::parse(read_file(dir / "out" / "runs" / "1" / "config.resolved.json"));
  EXPECT_FALSE(resolved.contains("plan"));
  EXPECT_EQ(resolved["disaggregation"]["kv_link"]["bandwidth"], "50 GB/s");
  EXPECT_NE(read_file(dir / "out" / "pareto.svg").find("disaggregated"), std::string::npos);
  fs::remove_all(dir);
}

TEST(SweepCommand, ObjectivesPickTheFrontColumns) {
  // Maximizing only requests/s: the front is the plans with the highest requests/s.
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", sweep_text(R"({"/scheduler/max_num_seqs": [16, 256]})",
                                            R"(, "objectives": [{"metric": "requests_per_s", "goal": "max"}])"));
  auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const auto rows = split_lines(read_file(dir / "out" / "sweep.csv"));
  const auto front = split_lines(read_file(dir / "out" / "pareto.csv"));
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(front.size(), 2u);
  const double r0 = std::stod(split_cells(rows[1])[4 + 2]);
  const double r1 = std::stod(split_cells(rows[2])[4 + 2]);
  EXPECT_EQ(front[1], r0 >= r1 ? rows[1] : rows[2]);
  EXPECT_NE(sweep.out.find("requests_per_s"), std::string::npos);
  fs::remove_all(dir);
}

// Runs a sweep file that must be rejected: exit 2, exactly `message` (after the
// sweep path) on stderr, nothing on stdout and no output directory.
void expect_rejected(const std::string& text, const std::string& message) {
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  write_file(path, text);
  auto result = run_servesim("sweep " + path + " --out " + (dir / "out").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim: error: " + path + ": " + message + "\n");
  EXPECT_EQ(result.out, "");
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

TEST(SweepCommand, UnknownTopLevelKeyIsRejectedWithNothingWritten) {
  expect_rejected(sweep_text(R"({"/plan/tp": [1]})", R"(, "axis": {})"),
                  "/axis: unknown key 'axis'; allowed: axes, base, capacity, constraints, objectives, prices, variants");
}

TEST(SweepCommand, PointerWhoseParentIsMissingIsRejectedWithNothingWritten) {
  expect_rejected(sweep_text(R"({"/plans/tp": [1, 2]})"),
                  "/axes/~1plans~1tp: does not resolve in the base config: /plans is missing");
}

TEST(SweepCommand, PointerIntoANonObjectIsRejectedWithNothingWritten) {
  expect_rejected(sweep_text(R"({"/plan/tp/size": [1, 2]})"),
                  "/axes/~1plan~1tp~1size: does not resolve in the base config: /plan/tp is not an object");
}

TEST(SweepCommand, TextThatIsNotAPointerIsRejectedWithNothingWritten) {
  expect_rejected(sweep_text(R"({"plan/tp": [1, 2]})"),
                  "/axes/plan~1tp: not a JSON pointer (give \"/key/key...\", with ~0 for ~ and ~1 for /)");
}

TEST(SweepCommand, EmptyAxisIsRejectedWithNothingWritten) {
  expect_rejected(sweep_text(R"({"/plan/tp": [1, 2], "/scheduler/max_num_seqs": []})"),
                  "/axes/~1scheduler~1max_num_seqs: empty axis: give at least one value");
}

TEST(SweepCommand, NoAxesIsRejectedWithNothingWritten) {
  expect_rejected(sweep_text("{}"), "/axes: no axes: give at least one {\"/json/pointer\": [values...]}");
}

TEST(SweepCommand, UnknownObjectiveMetricIsRejectedWithNothingWritten) {
  expect_rejected(
      sweep_text(R"({"/plan/tp": [1]})", R"(, "objectives": [{"metric": "speed", "goal": "max"}])"),
      "/objectives/0/metric: bad value \"speed\"; allowed: gpus, requests_per_s, output_tokens_per_s_per_gpu, "
      "goodput_requests_per_s_per_gpu, ttft_p50_s, ttft_p99_s, tpot_p50_s, tpot_p99_s, j_per_output_token, "
      "slo_attainment, cost_per_hour, cost_per_million_output_tokens, max_rate_req_s, max_rate_req_s_per_gpu, "
      "max_goodput_requests_per_s_per_gpu, max_rate_cost_per_million_output_tokens");
}

}  // namespace
}  // namespace servesim

// Claims about the provenance a run's summary.json and report.html carry: the
// servesim version, the source commit it was built from (with the flag for
// uncommitted changes), the command without the options that change no result,
// and for each GPU the run used whether its efficiency and its power model are
// measured or datasheet only — the same block a sweep's sweep.resolved.json and
// each of its runs carry. Goldens pin results only, never provenance, so a new
// commit moves no golden.
#include <gtest/gtest.h>

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
using testing::write_file;

const char* kRun = R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", %PLAN%,
  "workload": {"generator": {"impl": "poisson", "rate": 2, "num_requests": 20, "seed": 1,
                             "input_tokens": 256, "output_tokens": 32}}})";

std::string config_with(const std::string& plan) {
  std::string text = kRun;
  text.replace(text.find("%PLAN%"), 6, plan);
  return text;
}

TEST(RunProvenance, SummaryNamesVersionSourceCommitAndTheCommandWithoutOutputOptions) {
  const fs::path dir = make_temp_dir();
  const std::string config = (dir / "config.json").string();
  write_file(config, config_with(R"("plan": {"tp": 1})"));
  const auto run = run_servesim("run " + config + " --timeline --report --out " + (dir / "out").string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto summary = nlohmann::json::parse(read_file(dir / "out" / "summary.json"));
  ASSERT_TRUE(summary.contains("provenance"));
  const auto& provenance = summary["provenance"];
  EXPECT_EQ(provenance["servesim_version"], SERVESIM_VERSION);
  const std::string commit = provenance["source_commit"].get<std::string>();
  EXPECT_TRUE(commit.empty() || (commit.size() == 40u && commit.find_first_not_of("0123456789abcdef") ==
                                                             std::string::npos)) << commit;
  EXPECT_TRUE(provenance["source_uncommitted_changes"].is_boolean());
  EXPECT_EQ(provenance["command"], "servesim run " + config);  // --out, --timeline, --report left out
  // A sweep of the same build records the same version and commit.
  write_file(dir / "sweep.json", R"({"base": "config.json", "axes": {"/plan/tp": [1]}})");
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "sweep").string()).exit_code, 0);
  const auto resolved = nlohmann::json::parse(read_file(dir / "sweep" / "sweep.resolved.json"));
  for (const char* key : {"servesim_version", "source_commit", "source_uncommitted_changes"}) {
    EXPECT_EQ(resolved["provenance"][key], provenance[key]) << key;
  }
  // The sweep's run of plan 0 names the sweep and the plan, and the same GPUs as the run.
  const auto plan = nlohmann::json::parse(read_file(dir / "sweep" / "runs" / "0" / "summary.json"))["provenance"];
  EXPECT_EQ(plan["command"], "servesim sweep " + (dir / "sweep.json").string());
  EXPECT_EQ(plan["plan"], 0);
  EXPECT_EQ(plan["gpus"], provenance["gpus"]);
  // The run report shows it.
  const std::string html = read_file(dir / "out" / "report.html");
  EXPECT_NE(html.find("<h2>Provenance</h2>"), std::string::npos);
  EXPECT_NE(html.find("<tr><th>command</th><td>servesim run " + config + "</td></tr>"), std::string::npos);
  fs::remove_all(dir);
}

TEST(RunProvenance, EachGpuSaysWhetherItsEfficiencyAndPowerAreMeasured) {
  // From the catalogs: h100-sxm names calibration h100-sxm, which has no power fit (0 W terms);
  // h200-sxm names h200-sxm, with a power fit; b200 names none. Disaggregated prefill on H200 and
  // decode on B200: the node's own H100 runs no GPU of the plan and is not listed.
  const fs::path dir = make_temp_dir();
  const std::string config = (dir / "config.json").string();
  struct Case {
    std::string plan;
    std::string gpus;
  } cases[] = {
      {R"("plan": {"tp": 1})",
       R"([{"hardware": "h100-sxm", "gpu": "H100-SXM5-80GB", "execution": "measured", "calibration": "h100-sxm",
            "power": "datasheet"}])"},
      {R"("disaggregation": {"prefill": {"tp": 1, "hardware": "h200-sxm"}, "decode": {"tp": 1, "hardware": "b200"},
                              "kv_link": {"bandwidth": "50 GB/s", "latency": "10 us"}},
          "router": {"impl": "least-loaded"})",
       R"([{"hardware": "h200-sxm", "gpu": "H200-SXM-141GB", "execution": "measured", "calibration": "h200-sxm",
            "power": "measured"},
           {"hardware": "b200", "gpu": "B200-180GB", "execution": "datasheet", "power": "datasheet"}])"},
  };
  for (const Case& c : cases) {
    write_file(config, config_with(c.plan));
    const auto run = run_servesim("run " + config + " --report --out " + (dir / "out").string());
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const auto summary = nlohmann::json::parse(read_file(dir / "out" / "summary.json"));
    EXPECT_EQ(summary["provenance"]["gpus"], nlohmann::json::parse(c.gpus)) << c.plan;
  }
  // The last run's report: one row per GPU, datasheet numbers flagged.
  const std::string html = read_file(dir / "out" / "report.html");
  EXPECT_NE(html.find("<tr><td>b200</td><td>B200-180GB</td><td>datasheet only (no measured calibration)</td>"
                      "<td>datasheet (defaults scaled to the TDP)</td></tr>"),
            std::string::npos);
  EXPECT_NE(html.find("<tr><td>h200-sxm</td><td>H200-SXM-141GB</td><td>calibrated on measurements (h200-sxm)</td>"
                      "<td>measured (the calibration's power fit)</td></tr>"),
            std::string::npos);
  fs::remove_all(dir);
}

TEST(RunProvenance, GoldensPinResultsOnlySoANewCommitMovesNone) {
  // Every golden compares the summary values it lists; none lies under provenance or is wall_s,
  // the two parts of summary.json that differ between builds or reruns.
  const fs::path golden = fs::path(SERVESIM_TEST_DATA_DIR) / ".." / "golden";
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(golden)) {
    if (!fs::exists(entry.path() / "expected.json")) continue;
    ++cases;
    const auto expected = nlohmann::json::parse(read_file(entry.path() / "expected.json"));
    ASSERT_FALSE(expected.at("summary").empty()) << entry.path();
    for (const auto& [pointer, value] : expected.at("summary").items()) {
      EXPECT_NE(pointer.rfind("/provenance", 0), 0u) << entry.path() << pointer;
      EXPECT_NE(pointer, "/wall_s") << entry.path();
    }
  }
  EXPECT_GE(cases, 5);
}

}  // namespace
}  // namespace servesim

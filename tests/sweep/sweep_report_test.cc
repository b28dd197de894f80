// Claims about `servesim sweep --report` and the sweep's provenance: a
// self-contained report.html whose front table links each plan's run report,
// that says which GPUs are calibrated and which datasheet only, with every
// price's source; the same sweep gives the same bytes; sweep.resolved.json
// names the version, source commit and command.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"
#include "tests/sweep/sweep_fixture.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::write_file;

TEST(SweepReport, ReportIsSelfContainedLinksRunReportsAndMarksDatasheetOnlyGpus) {
  // H100 SXM has a measured calibration; A100 SXM 80 GB has datasheet numbers only.
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/hardware": ["h100-sxm", "a100-sxm-80gb"], "/plan/tp": [1, 2]})",
                                                     R"(, "constraints": {"ttft_p99_s": "<= 1 s"})"));
  const auto sweep = run_servesim("sweep " + (dir / "sweep.json").string() + " --report --jobs 2 --out " +
                                  (dir / "out").string());
  ASSERT_EQ(sweep.exit_code, 0) << sweep.err;
  const std::string html = read_file(dir / "out" / "report.html");
  ASSERT_FALSE(html.empty());
  EXPECT_EQ(html.find("<link"), std::string::npos);  // nothing fetched
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_NE(html.find("<svg xmlns"), std::string::npos);
  EXPECT_NE(html.find("calibrated on measurements (h100-sxm)"), std::string::npos);
  EXPECT_NE(html.find("datasheet only (no measured calibration)"), std::string::npos);
  // Power: h100-sxm's calibration has no power fit, so both GPUs use the datasheet defaults.
  EXPECT_NE(html.find("<td>h100-sxm</td><td>2</td><td>calibrated on measurements (h100-sxm)</td><td>datasheet "
                      "(defaults scaled to the TDP)</td>"),
            std::string::npos);
  EXPECT_NE(html.find("a100-sxm-80gb (datasheet only)"), std::string::npos);
  EXPECT_NE(html.find("lambda.ai/pricing"), std::string::npos);
  EXPECT_NE(html.find("<table class=\"sortable\">"), std::string::npos);
  // Every plan links its run report, which exists.
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(html.find("href=\"runs/" + std::to_string(i) + "/report.html\""), std::string::npos) << i;
    EXPECT_TRUE(fs::exists(dir / "out" / "runs" / std::to_string(i) / "report.html")) << i;
  }
  // The same sweep again (other --jobs): the same bytes.
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --report --jobs 1 --out " +
                         (dir / "again").string())
                .exit_code,
            0);
  EXPECT_EQ(read_file(dir / "again" / "report.html"), html);
  // Without --report the sweep's report.html of an earlier sweep goes.
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + (dir / "again").string()).exit_code, 0);
  EXPECT_FALSE(fs::exists(dir / "again" / "report.html"));
  fs::remove_all(dir);
}

TEST(SweepReport, ResolvedSweepNamesVersionSourceCommitAndCommand) {
  const fs::path dir = make_temp_dir();
  const std::string path = (dir / "sweep.json").string();
  write_file(path, testing::sweep_text(R"({"/plan/tp": [1]})"));
  ASSERT_EQ(run_servesim("sweep " + path + " --jobs 1 --out " + (dir / "out").string()).exit_code, 0);
  const auto resolved = nlohmann::json::parse(read_file(dir / "out" / "sweep.resolved.json"));
  const auto& provenance = resolved["provenance"];
  EXPECT_EQ(provenance["servesim_version"], SERVESIM_VERSION);
  const std::string commit = provenance["source_commit"].get<std::string>();
  EXPECT_TRUE(commit.empty() || commit.size() == 40u) << commit;  // empty only outside a git checkout
  EXPECT_TRUE(provenance["source_uncommitted_changes"].is_boolean());
  EXPECT_EQ(provenance["command"], "servesim sweep " + path);  // --out and --jobs change no result
  fs::remove_all(dir);
}

}  // namespace
}  // namespace servesim

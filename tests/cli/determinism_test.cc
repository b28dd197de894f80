// The bundled default run twice gives the same files, byte for byte (report.html
// included). The one exception is summary.json's "wall_s" (how long the
// simulator itself ran).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include "tests/cli/process.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::without_wall_time;

std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

TEST(Determinism, BundledDefaultRunTwiceGivesByteIdenticalFiles) {
  const std::string config = std::string(SERVESIM_TEST_DATA_DIR) + "/../../workloads/examples/default.json";
  const fs::path dir = make_temp_dir();
  ASSERT_EQ(run_servesim("run " + config + " --timeline --report --out " + (dir / "a").string()).exit_code, 0);
  ASSERT_EQ(run_servesim("run " + config + " --timeline --report --out " + (dir / "b").string()).exit_code, 0);
  const std::set<std::string> names = files_in(dir / "a");
  EXPECT_EQ(names, files_in(dir / "b"));
  EXPECT_TRUE(names.count("summary.json") && names.count("requests.csv") && names.count("config.resolved.json") &&
              names.count("timeline.json") && names.count("report.html"));
  for (const std::string& name : names) {
    std::string a = read_file(dir / "a" / name);
    std::string b = read_file(dir / "b" / name);
    if (name == "summary.json") {
      a = without_wall_time(a);
      b = without_wall_time(b);
    }
    EXPECT_EQ(a, b) << name << " differs between two runs of the same config";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace servesim

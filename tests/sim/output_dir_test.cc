// Claims about output files: nothing half-written is ever visible under its name.
#include "sim/output_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/config_error.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("servesim_output_dir_" + name);
  fs::remove_all(dir);
  return dir;
}

std::string contents(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(OutputDir, StreamedFileAppearsOnlyOnCommit) {
  const fs::path dir = fresh_dir("commit");
  OutputDir out(dir.string());
  OutputFile file = out.open("rows.csv");
  file.append("a,b\n");
  file.append("1,2\n");
  EXPECT_FALSE(fs::exists(dir / "rows.csv"));
  file.commit();
  EXPECT_EQ(contents(dir / "rows.csv"), "a,b\n1,2\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

TEST(OutputDir, FailedRunLeavesNeitherPartialFileNorTheDirectoryItCreated) {
  const fs::path dir = fresh_dir("failure") / "nested";
  {
    OutputDir out(dir.string());
    OutputFile file = out.open("rows.csv");
    file.append("half a row");
    // No commit: the run failed.
  }
  EXPECT_FALSE(fs::exists(dir));
  fs::remove_all(dir.parent_path());
}

TEST(OutputDir, ExistingDirectoryIsKeptAndPreviousFilesAreReplacedWhole) {
  const fs::path dir = fresh_dir("existing");
  fs::create_directories(dir);
  std::ofstream(dir / "summary.json") << "old";
  {
    OutputDir out(dir.string());
    out.write("summary.json", "new");
  }
  EXPECT_EQ(contents(dir / "summary.json"), "new");
  {
    OutputDir out(dir.string());
    OutputFile abandoned = out.open("requests.csv");
  }
  EXPECT_TRUE(fs::exists(dir / "summary.json"));
  EXPECT_FALSE(fs::exists(dir / "requests.csv"));
  EXPECT_FALSE(fs::exists(dir / ".requests.csv.partial"));
  fs::remove_all(dir);
}

TEST(OutputDir, UncreatableDirectoryIsAConfigError) {
  const fs::path blocker = fresh_dir("blocker");
  std::ofstream(blocker.string()) << "";
  EXPECT_THROW(OutputDir((blocker / "out").string()), ConfigError);
  fs::remove(blocker);
}

}  // namespace
}  // namespace servesim

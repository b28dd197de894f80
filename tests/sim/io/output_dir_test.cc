// Claims about output files: nothing half-written is ever visible under its name.
#include "sim/io/output_dir.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/config_error.h"

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

TEST(OutputDir, StagedFilesAppearOnlyOnCommitAndAllTogether) {
  const fs::path dir = fresh_dir("commit");
  OutputDir out(dir.string());
  OutputFile& file = out.open("rows.csv");
  file.append("a,b\n");
  out.write("summary.json", "{}");
  file.append("1,2\n");
  EXPECT_FALSE(fs::exists(dir / "rows.csv"));
  EXPECT_FALSE(fs::exists(dir / "summary.json"));
  out.commit();
  EXPECT_EQ(contents(dir / "rows.csv"), "a,b\n1,2\n");
  EXPECT_EQ(contents(dir / "summary.json"), "{}");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 2);
  fs::remove_all(dir);
}

TEST(OutputDir, FailedRunLeavesNeitherPartialFileNorTheDirectoryItCreated) {
  const fs::path dir = fresh_dir("failure") / "nested";
  {
    OutputDir out(dir.string());
    OutputFile& file = out.open("rows.csv");
    file.append("half a row");
    out.write("summary.json", "{}");
    // No commit: the run failed.
  }
  EXPECT_FALSE(fs::exists(dir));
  fs::remove_all(dir.parent_path());
}

TEST(OutputDir, UncommittedRunLeavesAnEarlierRunsFilesAsTheyWere) {
  const fs::path dir = fresh_dir("existing");
  fs::create_directories(dir);
  std::ofstream(dir / "summary.json") << "old";
  {
    OutputDir out(dir.string());
    out.write("summary.json", "new");
    OutputFile& abandoned = out.open("requests.csv");
    abandoned.append("1,2\n");
  }
  EXPECT_EQ(contents(dir / "summary.json"), "old");
  EXPECT_FALSE(fs::exists(dir / "requests.csv"));
  EXPECT_FALSE(fs::exists(dir / ".requests.csv.partial"));
  EXPECT_FALSE(fs::exists(dir / ".summary.json.partial"));
  fs::remove_all(dir);
}

TEST(OutputDir, CommitReplacesFilesWholeAndRemovesAnEarlierRunsFilesItDidNotWrite) {
  const fs::path dir = fresh_dir("stale");
  fs::create_directories(dir);
  std::ofstream(dir / "summary.json") << "old";
  std::ofstream(dir / "timeline.json") << "old";
  std::ofstream(dir / "notes.txt") << "mine";
  {
    OutputDir out(dir.string());
    out.write("summary.json", "new");
    out.commit({"summary.json", "timeline.json"});
  }
  EXPECT_EQ(contents(dir / "summary.json"), "new");
  EXPECT_FALSE(fs::exists(dir / "timeline.json"));
  EXPECT_EQ(contents(dir / "notes.txt"), "mine");  // not an output name: kept
  fs::remove_all(dir);
}

// System: a file size limit of 64 KiB (what a full disk does to a write, without needing one)
// and a streamed file of 1 MiB. Expectation: commit throws naming the file, and neither the
// file nor its partial file is left.
TEST(OutputDir, WriteRefusedByTheDiskFailsTheCommitAndLeavesNoFile) {
  const fs::path dir = fresh_dir("full");
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limit = saved;
  limit.rlim_cur = 64 << 10;
  ::setrlimit(RLIMIT_FSIZE, &limit);
  std::string message;
  {
    OutputDir out(dir.string());
    try {
      OutputFile& file = out.open("requests.csv");
      for (int i = 0; i < 1024; ++i) file.append(std::string(1024, 'x'));
      out.commit();
    } catch (const ConfigError& error) {
      message = error.what();
    }
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  EXPECT_EQ(message, (dir / "requests.csv").string() + ": cannot write output file (File too large)");
  EXPECT_FALSE(fs::exists(dir));
}

TEST(OutputDir, ConfigInsideTheOutputDirectoryUnderAnOutputsNameIsRefused) {
  const fs::path dir = fresh_dir("input");
  fs::create_directories(dir);
  std::ofstream(dir / "summary.json") << "{}";
  OutputDir out(dir.string());
  try {
    out.refuse_overwriting((dir / "." / "summary.json").string(), {"requests.csv", "summary.json"});
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), (dir / "." / "summary.json").string() + ": is the run's output " +
                                             (dir / "summary.json").string() +
                                             " and would be overwritten; choose another --out or move the file");
  }
  fs::remove_all(dir);
}

TEST(OutputFile, WriteToAFullDeviceIsAConfigError) {
  try {
    write_output_file("/dev/full", std::string(1 << 16, 'x'));
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "/dev/full: cannot write output file (No space left on device)");
  }
}

TEST(OutputFile, WriteIntoAMissingDirectoryIsAConfigError) {
  try {
    write_output_file("/nonexistent-dir/fit.json", "{}");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "/nonexistent-dir/fit.json: cannot write output file (No such file or directory)");
  }
}

TEST(OutputDir, UncreatableDirectoryIsAConfigError) {
  const fs::path blocker = fresh_dir("blocker");
  std::ofstream(blocker.string()) << "";
  EXPECT_THROW(OutputDir((blocker / "out").string()), ConfigError);
  fs::remove(blocker);
}

}  // namespace
}  // namespace servesim

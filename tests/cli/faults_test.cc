// Faults around a run rather than in its input: a disk that refuses writes, a signal
// part-way, an output directory reused from an earlier run, an input that is one of the
// outputs, an output file that cannot be written. Each ends with one line on stderr and
// an output directory holding either exactly one run's files or what it held before.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::write_file;

const std::string kDefaultConfig = std::string(SERVESIM_TEST_DATA_DIR) + "/../../workloads/examples/default.json";

std::set<std::string> names_in(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

class Faults : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }

  // The default config with `requests` generated requests, written as DIR/NAME.
  std::string config(int64_t requests, const std::string& name = "config.json") {
    json c = json::parse(read_file(kDefaultConfig));
    c["workload"]["generator"]["num_requests"] = requests;
    const std::string path = dir_ + "/" + name;
    write_file(path, c.dump(2));
    return path;
  }

  std::string dir_;
};

// System: a file size limit of 100 KiB with SIGXFSZ ignored, so writes past it fail as on a
// full disk, and an output directory holding an earlier run's summary.json.
// Expectation: exit 2, one line naming the file that could not be written, the earlier
// summary.json as it was and no partial file (before, summary.json of the failed run was
// left, or every file but report.html).
TEST_F(Faults, DiskRefusingWritesPartWayLeavesTheOutputDirectoryAsItWas) {
  const std::string out = dir_ + "/out";
  fs::create_directories(out);
  write_file(out + "/summary.json", "earlier run");
  const std::string command = "sh -c \"trap '' XFSZ; ulimit -f 200; exec " + std::string(SERVESIM_BINARY) + " run " +
                              config(5000) + " --timeline --report --out " + out + "\" > " + dir_ + "/stdout 2> " +
                              dir_ + "/stderr";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  const std::string err = read_file(dir_ + "/stderr");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.rfind("servesim: error: " + out + "/", 0), 0u) << err;
  EXPECT_NE(err.find(": cannot write output file (File too large)\n"), std::string::npos) << err;
  EXPECT_EQ(names_in(out), std::set<std::string>{"summary.json"});
  EXPECT_EQ(read_file(out + "/summary.json"), "earlier run");
}

// System: a run of 2,000,000 generated requests with --timeline (several seconds), sent a
// signal once its partial files exist. Expectation: exit 128 + signal, one line on stderr,
// and no file left (the output directory, which the run created, is gone too). Before,
// SIGINT exited 1 silently through SimGrid's handler and SIGTERM/SIGHUP left the hidden
// partial files (~14 MB requests.csv, ~190 MB timeline.json).
class SignalDuringRun : public Faults, public ::testing::WithParamInterface<int> {};

TEST_P(SignalDuringRun, RemovesPartialFilesPrintsOneLineAndExitsWith128PlusTheSignal) {
  const int sig = GetParam();
  const std::string out = dir_ + "/out";
  const std::string cfg = config(2'000'000);
  const std::string err_path = dir_ + "/stderr";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen(err_path.c_str(), "w", stderr);
    ::execl(SERVESIM_BINARY, SERVESIM_BINARY, "run", cfg.c_str(), "--timeline", "--out", out.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out + "/.timeline.json.partial") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well inside the simulation
  ASSERT_EQ(::kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
  const std::string name = sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
  EXPECT_EQ(read_file(err_path), "servesim: interrupted (" + name + "); partial outputs removed\n");
  EXPECT_FALSE(fs::exists(out)) << "left: " << (fs::exists(out) ? *names_in(out).begin() : "");
}

INSTANTIATE_TEST_SUITE_P(Signals, SignalDuringRun, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return param.param == SIGINT ? "Sigint" : param.param == SIGTERM ? "Sigterm" : "Sighup";
                         });

// A rerun without --timeline and --report left the earlier timeline.json and report.html
// beside the new summary, which readers took for this run's.
TEST_F(Faults, RerunIntoTheSameDirectoryRemovesTheEarlierRunsFilesItDoesNotWrite) {
  const std::string out = dir_ + "/out";
  const std::string cfg = config(200);
  ASSERT_EQ(run_servesim("run " + cfg + " --timeline --report --out " + out).exit_code, 0);
  write_file(out + "/notes.txt", "mine");
  ASSERT_EQ(run_servesim("run " + cfg + " --out " + out).exit_code, 0);
  EXPECT_EQ(names_in(out), (std::set<std::string>{"summary.json", "requests.csv", "config.resolved.json",
                                                  "kv_utilization.csv", "notes.txt"}));
}

// A sweep of one plan into the directory of a sweep of two left runs/1 beside runs/0.
TEST_F(Faults, SweepIntoTheDirectoryOfALargerSweepRemovesTheRunsItDoesNotHave) {
  json base = json::parse(read_file(kDefaultConfig));
  base["workload"]["generator"]["num_requests"] = 100;
  const std::string out = dir_ + "/out";
  write_file(dir_ + "/two.json", json{{"base", base}, {"axes", {{"/plan/tp", {1, 2}}}}}.dump());
  write_file(dir_ + "/one.json", json{{"base", base}, {"axes", {{"/plan/tp", {1}}}}}.dump());
  ASSERT_EQ(run_servesim("sweep " + dir_ + "/two.json --jobs 1 --out " + out).exit_code, 0);
  fs::create_directories(out + "/runs/7");
  write_file(out + "/runs/7/notes.txt", "mine");
  ASSERT_EQ(run_servesim("sweep " + dir_ + "/one.json --jobs 1 --out " + out).exit_code, 0);
  EXPECT_EQ(names_in(out + "/runs"), (std::set<std::string>{"0", "7"}));  // 7 is not a run: kept
}

// A config saved as summary.json inside --out was overwritten by the run's summary.
TEST_F(Faults, ConfigThatIsAnOutputOfTheRunIsRefusedAndKept) {
  const std::string out = dir_ + "/out";
  fs::create_directories(out);
  const std::string cfg = config(200, "out/summary.json");
  const std::string text = read_file(cfg);
  const auto result = run_servesim("run " + cfg + " --out " + out);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim: error: " + cfg + ": is the run's output " + out +
                            "/summary.json and would be overwritten; choose another --out or move the file\n");
  EXPECT_EQ(read_file(cfg), text);
  EXPECT_EQ(names_in(out), std::set<std::string>{"summary.json"});
}

// `calibrate --out` on a full disk exited 0 leaving a 0-byte file.
TEST_F(Faults, CalibrateOutOnAFullDiskIsAnErrorNamingTheFile) {
  const std::string bench = std::string(SERVESIM_TEST_DATA_DIR) + "/../../../shared/calibration/h100_sxm_microbench.json";
  if (!fs::exists(bench)) GTEST_SKIP() << bench << " not found";
  const auto result = run_servesim("calibrate " + bench + " --out /dev/full");
  EXPECT_EQ(result.exit_code, 2);
  const std::string last = result.err.substr(result.err.rfind("servesim: "));
  EXPECT_EQ(last, "servesim: error: /dev/full: cannot write output file (No space left on device)\n");
}

// `calibrate --nccl DIR --out` into a missing directory exited 0 writing nothing.
TEST_F(Faults, CalibrateNcclOutIntoAMissingDirectoryIsAnErrorNamingTheFile) {
  fs::create_directories(dir_ + "/nccl");
  const std::string header = "a,b,c,d,median_ms,f,g,num_workers,size,j,per_node,l\n";
  write_file(dir_ + "/nccl/all_reduce.csv", header + "0,0,0,0,0.02,0,0,2,1024,0,8,0\n0,0,0,0,0.5,0,0,2,1048576,0,8,0\n");
  write_file(dir_ + "/nccl/send_recv.csv", header + "0,0,0,0,0.02,0,0,2,1024,0,8,0\n0,0,0,0,0.5,0,0,2,1048576,0,8,0\n");
  const auto result = run_servesim("calibrate --nccl " + dir_ + "/nccl --out " + dir_ + "/missing/fabric.json");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim: error: " + dir_ +
                            "/missing/fabric.json: cannot write output file (No such file or directory)\n");
  EXPECT_EQ(result.out, "");
}

}  // namespace
}  // namespace servesim

// Claims about interrupted and resumed sweeps: a sweep stopped by SIGINT or
// SIGTERM, or whose parent is killed outright, leaves every runs/<i> complete
// or absent and no process writing on; `--resume` then runs only what is
// missing, and the outputs are byte-identical to an uninterrupted sweep's
// (summary.json up to its wall_s line, as between any two runs).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

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

// 12 plans, each with a capacity search (about 10 simulations): long enough to interrupt.
std::string searched_sweep() {
  return testing::sweep_text(R"({"/scheduler/max_num_seqs": [8, 16, 32, 64, 128, 256], "/plan/tp": [1, 2]})", R"(,
      "constraints": {"ttft_p99_s": "<= 300 ms"}, "capacity": {"precision": 0.05}, "objectives": [
      {"metric": "max_rate_req_s_per_gpu", "goal": "max"}, {"metric": "ttft_p99_s", "goal": "min"}])");
}

// Starts `servesim sweep SWEEP --out OUT --jobs 2` in the background; stdout and stderr go to files in OUT's parent.
pid_t start_sweep(const fs::path& sweep, const fs::path& out) {
  const std::string log = (out.parent_path() / (out.filename().string() + ".log")).string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execl(SERVESIM_BINARY, "servesim", "sweep", sweep.c_str(), "--out", out.c_str(), "--jobs", "2",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Processes whose command line names `out` (the sweep and its forked children share it).
std::vector<pid_t> processes_naming(const std::string& out) {
  std::vector<pid_t> pids;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    const std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find(out) != std::string::npos) pids.push_back(std::stoi(name));
  }
  return pids;
}

// Waits (up to 20 s) until `done` holds.
template <typename Condition>
bool wait_for(Condition done) {
  for (int i = 0; i < 20000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

std::size_t committed_plans(const fs::path& out) {
  std::size_t n = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(out / "runs", error)) {
    n += entry.path().filename().string()[0] != '.' ? 1 : 0;
  }
  return n;
}

// Every output of `b` equals `a`'s; `plans` runs/<i> each complete (plan.json, and the run outputs if it ran).
void expect_same_outputs(const fs::path& a, const fs::path& b, std::size_t plans) {
  for (const char* name : {"sweep.csv", "pareto.csv", "pareto.svg", "sweep.resolved.json"}) {
    const std::string expected = read_file(a / name);
    EXPECT_FALSE(expected.empty()) << name;
    EXPECT_EQ(read_file(b / name), expected) << name;
  }
  for (std::size_t i = 0; i < plans; ++i) {
    const fs::path x = a / "runs" / std::to_string(i), y = b / "runs" / std::to_string(i);
    for (const char* name : {"plan.json", "requests.csv", "config.resolved.json", "kv_utilization.csv"}) {
      EXPECT_EQ(read_file(y / name), read_file(x / name)) << "plan " << i << " " << name;
    }
    EXPECT_EQ(without_wall_time(read_file(y / "summary.json")), without_wall_time(read_file(x / "summary.json")))
        << "plan " << i;
  }
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(b / "runs")) {
    EXPECT_NE(entry.path().filename().string()[0], '.') << "left over: " << entry.path();
    ++entries;
  }
  EXPECT_EQ(entries, plans);
}

void interrupt_and_resume(int sig) {
  const fs::path dir = make_temp_dir();
  write_file(dir / "sweep.json", searched_sweep());
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --out " + (dir / "whole").string())
                .exit_code,
            0);
  // Interrupted once the first plan is committed: most of the sweep is still to run.
  const pid_t pid = start_sweep(dir / "sweep.json", dir / "cut");
  ASSERT_TRUE(wait_for([&] { return committed_plans(dir / "cut") >= 1; }));
  ::kill(pid, sig);
  EXPECT_EQ(wait_exit_code(pid), 128 + sig);
  EXPECT_TRUE(processes_naming((dir / "cut").string()).empty());
  const std::size_t kept = committed_plans(dir / "cut");
  ASSERT_LT(kept, 12u) << "the sweep finished before the signal; nothing was interrupted";
  for (std::size_t i = 0; i < 12; ++i) {
    const fs::path run = dir / "cut" / "runs" / std::to_string(i);
    if (fs::exists(run)) {
      EXPECT_TRUE(fs::exists(run / "plan.json")) << run;  // complete or absent
    }
  }
  EXPECT_FALSE(fs::exists(dir / "cut" / "sweep.csv"));

  const auto resumed = run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --resume --out " +
                                    (dir / "cut").string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("servesim sweep: resuming: " + std::to_string(kept) + " of 12 plans already done, " +
                             std::to_string(12 - kept) + " to run"),
            std::string::npos)
      << resumed.err;
  expect_same_outputs(dir / "whole", dir / "cut", 12);
  fs::remove_all(dir);
}

TEST(SweepResume, ASweepStoppedBySigtermResumesToByteIdenticalOutputs) { interrupt_and_resume(SIGTERM); }

TEST(SweepResume, ASweepStoppedBySigintResumesToByteIdenticalOutputs) { interrupt_and_resume(SIGINT); }

TEST(SweepResume, AKilledSweepTakesItsChildrenWithItAndResumes) {
  // Two plans of 20,000 requests (about a second each) run side by side; SIGKILL the parent while
  // both children simulate. The children get SIGTERM (PR_SET_PDEATHSIG) and stop at once: nothing
  // is committed and nothing keeps writing.
  const fs::path dir = make_temp_dir();
  std::string text = testing::sweep_text(R"({"/plan/tp": [1, 2]})");
  text.replace(text.find("\"num_requests\": 200"), 19, "\"num_requests\": 20000");
  write_file(dir / "sweep.json", text);
  const std::string cut = (dir / "cut").string();
  const pid_t pid = start_sweep(dir / "sweep.json", dir / "cut");
  ASSERT_TRUE(wait_for([&] { return processes_naming(cut).size() >= 3; }));  // the sweep and its two plans
  ::kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
  EXPECT_TRUE(wait_for([&] { return processes_naming(cut).empty(); })) << "an orphaned plan kept running";
  EXPECT_EQ(committed_plans(dir / "cut"), 0u);
  // A plan left running would have finished its run into its staging directory; a stopped one
  // removed its partial files.
  for (const char* staging : {".0.partial", ".1.partial"}) {
    EXPECT_FALSE(fs::exists(dir / "cut" / "runs" / staging / "summary.json")) << staging;
  }

  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --out " + (dir / "whole").string())
                .exit_code,
            0);
  const auto resumed = run_servesim("sweep " + (dir / "sweep.json").string() + " --resume --out " + cut);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  expect_same_outputs(dir / "whole", dir / "cut", 2);
  fs::remove_all(dir);
}

TEST(SweepResume, ResumeKeepsOnlyPlansRunUnderTheSameSettings) {
  const fs::path dir = make_temp_dir();
  const std::string out = (dir / "out").string();
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/plan/tp": [1, 2]})", R"(,
      "constraints": {"ttft_p99_s": "<= 1 s"})"));
  ASSERT_EQ(run_servesim("sweep " + (dir / "sweep.json").string() + " --out " + out).exit_code, 0);
  const std::string csv = read_file(dir / "out" / "sweep.csv");
  // The same sweep again: nothing to run, the same outputs.
  auto again = run_servesim("sweep " + (dir / "sweep.json").string() + " --resume --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming: 2 of 2 plans already done, 0 to run"), std::string::npos) << again.err;
  EXPECT_EQ(read_file(dir / "out" / "sweep.csv"), csv);
  // Another constraint can change what a plan's capacity search finds: every plan runs again.
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/plan/tp": [1, 2]})", R"(,
      "constraints": {"ttft_p99_s": "<= 2 s"})"));
  again = run_servesim("sweep " + (dir / "sweep.json").string() + " --resume --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming: 0 of 2 plans already done, 2 to run"), std::string::npos) << again.err;
  // So does a plan whose config changed (here: only the second).
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/plan/tp": [1, 4]})", R"(,
      "constraints": {"ttft_p99_s": "<= 2 s"})"));
  again = run_servesim("sweep " + (dir / "sweep.json").string() + " --resume --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming: 1 of 2 plans already done, 1 to run"), std::string::npos) << again.err;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace servesim

// Claims about `mpirun -np N servesim sweep`: ranks 1..N-1 run the plans, rank 0
// writes them, and every output is byte-identical to a local sweep's (summary.json
// up to wall_s), infeasible plans and capacity searches included. Skipped when
// servesim was built without MPI (a sanitizer build, or CMake found no libopenmpi-dev
// or no mpirun).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

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

#ifdef SERVESIM_TEST_MPIEXEC
// Runs `command` through /bin/sh, capturing what it prints.
testing::ProcessResult run_shell(const std::string& command) {
  const std::string dir = make_temp_dir();
  const int status = std::system((command + " >" + dir + "/out 2>" + dir + "/err").c_str());
  testing::ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(dir + "/out");
  result.err = read_file(dir + "/err");
  fs::remove_all(dir);
  return result;
}
#endif

TEST(SweepMpi, TwoWorkerRanksGiveByteIdenticalOutputsToALocalSweep) {
#ifndef SERVESIM_TEST_MPIEXEC
  GTEST_SKIP() << "servesim was built without MPI (a sanitizer build, or CMake found no OpenMPI: "
                  "tools/setup.sh installs openmpi-bin and libopenmpi-dev)";
#else
  const fs::path dir = make_temp_dir();
  // 8B and 70B at TP 1 and 2 (70B at TP 1 does not fit: infeasible), each searched for capacity.
  write_file(dir / "sweep.json", testing::sweep_text(R"({"/model": ["llama-3.1-8b", "llama-3.1-70b"], "/plan/tp": [1, 2],
      "/scheduler/max_num_seqs": [16, 256]})", R"(, "constraints": {"ttft_p99_s": "<= 2 s"}, "capacity": {"precision": 0.1})"));
  const auto local = run_servesim("sweep " + (dir / "sweep.json").string() + " --jobs 2 --report --out " +
                                  (dir / "local").string());
  ASSERT_EQ(local.exit_code, 0) << local.err;
  // Root and oversubscription allowed: CI runs as root on 2 cores, 3 ranks.
  const std::string mpirun = std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ") +
                             SERVESIM_TEST_MPIEXEC + " -np 3 --oversubscribe " + SERVESIM_BINARY;
  const auto mpi = run_shell(mpirun + " sweep " + (dir / "sweep.json").string() + " --report --out " +
                                      (dir / "mpi").string());
  ASSERT_EQ(mpi.exit_code, 0) << mpi.err;
  EXPECT_NE(mpi.out.find("over 2 MPI ranks"), std::string::npos) << mpi.out;
  for (const char* name : {"sweep.csv", "pareto.csv", "pareto.svg", "sweep.resolved.json", "report.html"}) {
    const std::string expected = read_file(dir / "local" / name);
    EXPECT_FALSE(expected.empty()) << name;
    EXPECT_EQ(read_file(dir / "mpi" / name), expected) << name;
  }
  for (int i = 0; i < 8; ++i) {
    const fs::path a = dir / "local" / "runs" / std::to_string(i), b = dir / "mpi" / "runs" / std::to_string(i);
    for (const char* name : {"plan.json", "requests.csv", "config.resolved.json", "kv_utilization.csv", "report.html"}) {
      EXPECT_EQ(read_file(b / name), read_file(a / name)) << "plan " << i << " " << name;
    }
    EXPECT_EQ(without_wall_time(read_file(b / "summary.json")), without_wall_time(read_file(a / "summary.json")));
  }
  EXPECT_NE(read_file(dir / "mpi" / "sweep.csv").find("infeasible"), std::string::npos);
  fs::remove_all(dir);
#endif
}

}  // namespace
}  // namespace servesim

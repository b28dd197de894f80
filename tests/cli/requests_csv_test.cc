// requests.csv: one row per request, finished or rejected, each with the header's columns.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/process.h"

namespace servesim {
namespace {

namespace fs = std::filesystem;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::write_file;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t fields(const std::string& line) { return 1 + static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')); }

// Three requests, the second longer than Llama-3.1-8B's context and rejected; with one and two replicas.
class RequestsCsv : public ::testing::TestWithParam<int> {};

TEST_P(RequestsCsv, EveryRowFinishedOrRejectedHasTheHeadersColumns) {
  const fs::path dir = make_temp_dir();
  write_file(dir / "t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n1,200000,10\n2,5,3\n");
  write_file(dir / "c.json", R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "plan": {"tp": 1, "dp": )" +
                                 std::to_string(GetParam()) +
                                 R"(}, "workload": {"trace": {"format": "vidur", "path": "t.csv"}, "oversized": "reject"}})");
  auto result = run_servesim("run " + (dir / "c.json").string() + " --out " + (dir / "out").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto lines = lines_of(read_file(dir / "out" / "requests.csv"));
  ASSERT_EQ(lines.size(), 4u);
  int rejected = 0;
  for (const std::string& line : lines) {
    EXPECT_EQ(fields(line), fields(lines[0])) << line;
    rejected += line.find(",rejected,") != std::string::npos;
  }
  EXPECT_EQ(rejected, 1);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(OneAndTwoReplicas, RequestsCsv, ::testing::Values(1, 2));

}  // namespace
}  // namespace servesim

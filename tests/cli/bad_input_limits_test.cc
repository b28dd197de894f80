// Bad input beyond a wrong key or value: documents too deep, numbers beyond a double,
// duplicate keys, trace paths that are no file, empty trace windows, sweeps too large
// to enumerate, calibration files that cannot determine a curve. Each gets exit 2, one
// line on stderr naming the file and the JSON pointer or line, and nothing written.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <iterator>
#include <string>

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

// 64 levels of "/0" below `prefix`'s 1: the pointer where a document nested too deep is cut.
std::string deep_pointer(const std::string& prefix, int levels_in_prefix) {
  std::string pointer = prefix;
  for (int i = levels_in_prefix; i < 64; ++i) pointer += "/0";
  return pointer;
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

class BadInputLimits : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { fs::remove_all(dir_); }

  std::string default_config_text() const { return read_file(kDefaultConfig); }

  // Writes the bundled default config changed by `edit` as DIR/NAME.
  std::string config_with(const std::function<void(json&)>& edit, const std::string& name = "config.json") {
    json config = json::parse(default_config_text());
    edit(config);
    const std::string path = dir_ + "/" + name;
    write_file(path, config.dump(2));
    return path;
  }

  // A config replaying `trace` (format, path relative to DIR) with `extra` trace keys.
  std::string trace_config(const std::string& format, const std::string& trace, const json& extra = json::object()) {
    return config_with([&](json& c) {
      json t = {{"format", format}, {"path", trace}};
      t.update(extra);
      c["workload"] = {{"trace", t}};
    });
  }

  // `servesim COMMAND` (with --out DIR/out appended when `out`): exit 2, exactly `line`, no DIR/out.
  void expect_rejected(const std::string& command, const std::string& line, bool out = true) {
    const std::string out_dir = dir_ + "/out";
    auto result = run_servesim(command + (out ? " --out " + out_dir : std::string()));
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err, "servesim: error: " + line + "\n");
    EXPECT_EQ(result.out, "");
    EXPECT_FALSE(fs::exists(out_dir)) << "output written despite the error";
  }

  std::string dir_;
};

// System: a run config whose "slo" holds arrays nested 100,000 deep (exit 139 before: the
// recursive copy and dump of such a document overflow the stack).
TEST_F(BadInputLimits, RunConfigNestedTooDeepIsRejectedWithItsPointer) {
  const std::string path = dir_ + "/config.json";
  std::string text = default_config_text();
  text.insert(text.find('{') + 1, "\"deep\": " + nested_arrays(100000) + ",");
  write_file(path, text);
  expect_rejected("run " + path, path + ": " + deep_pointer("/deep", 1) + ": arrays and objects nested deeper than 64 levels");
}

TEST_F(BadInputLimits, NumberBeyondADoubleInARunConfigIsBadInput) {
  const std::string path = dir_ + "/config.json";
  std::string text = default_config_text();
  text.insert(text.find('{') + 1, "\"kv_sample_interval\": 1e400,");
  write_file(path, text);
  expect_rejected("run " + path,
                  path + ": /kv_sample_interval: number overflow parsing '1e400' (beyond the range of a double)");
}

TEST_F(BadInputLimits, DuplicateKeyInARunConfigIsRejected) {
  const std::string path = dir_ + "/config.json";
  std::string text = default_config_text();
  text.insert(text.find('{') + 1, "\"model\": \"llama-3.1-70b\",");
  write_file(path, text);
  expect_rejected("run " + path, path + ": /model: duplicate key 'model' (each key may appear once in an object)");
}

TEST_F(BadInputLimits, MooncakeTraceRecordNestedTooDeepIsRejectedWithLineAndPointer) {
  write_file(dir_ + "/t.jsonl", "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 2, \"hash_ids\": " +
                                    nested_arrays(100000) + "}\n");
  expect_rejected("run " + trace_config("mooncake", "t.jsonl"),
                  dir_ + "/t.jsonl:1: " + deep_pointer("/hash_ids", 1) +
                      ": arrays and objects nested deeper than 64 levels");
}

TEST_F(BadInputLimits, TracePathThatIsADirectoryIsNamedAsSuch) {
  fs::create_directories(dir_ + "/traces");
  expect_rejected("run " + trace_config("azure", "traces"),
                  dir_ + "/config.json: /workload/trace/path: trace path '" + dir_ +
                      "/traces' is a directory, not a file");
}

TEST_F(BadInputLimits, TracePathThatIsADeviceIsNamedAsSuch) {
  expect_rejected("run " + trace_config("azure", "/dev/zero"),
                  dir_ + "/config.json: /workload/trace/path: trace path '/dev/zero' is not a regular file (a device, "
                         "pipe or socket)");
}

TEST_F(BadInputLimits, ConfigThatIsADirectoryIsNamedAsSuch) {
  fs::create_directories(dir_ + "/config.json");
  expect_rejected("run " + dir_ + "/config.json", dir_ + "/config.json: is a directory, not a JSON file");
}

// System: a two-request trace whose requests arrive at 0 s and 10 s, replayed from 20 s.
// Expectation: no request is in the window, which is a mistake, not an empty result (exit 0 before).
TEST_F(BadInputLimits, TraceWindowWithoutRequestsIsBadInput) {
  write_file(dir_ + "/t.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,2\n10,10,2\n");
  expect_rejected("run " + trace_config("vidur", "t.csv", {{"start", "20 s"}, {"end", "30 s"}}),
                  dir_ + "/config.json: /workload/trace: no request of trace '" + dir_ +
                      "/t.csv' arrives in the window start..end [20 s, 30 s) (times from the trace's first request)");
}

// A sweep of 2^40 plans threw bad_alloc (exit 1); 2^64 wrapped to 0 plans and exited 0.
TEST_F(BadInputLimits, SweepWithMoreThanAMillionPlansIsRejectedAtTheAxisThatCrossesIt) {
  json axes = json::object();
  for (int i = 0; i < 64; ++i) axes[(i < 10 ? "/x0" : "/x") + std::to_string(i)] = {1, 2};  // sorted = file order
  const std::string path = dir_ + "/sweep.json";
  write_file(path, json{{"base", json::parse(default_config_text())}, {"axes", axes}}.dump());
  expect_rejected("sweep " + path, path + ": /axes/~1x19: the sweep would have 1048576 plans (the product of the axis "
                                          "sizes); at most 1000000 are allowed");
}

TEST_F(BadInputLimits, SweepAxisNestedTooDeepIsRejectedWithItsPointer) {
  const std::string path = dir_ + "/sweep.json";
  write_file(path, "{\"base\": " + default_config_text() + ", \"axes\": {\"/slo\": " + nested_arrays(100000) + "}}");
  expect_rejected("sweep " + path,
                  path + ": " + deep_pointer("/axes/~1slo", 2) + ": arrays and objects nested deeper than 64 levels");
}

TEST_F(BadInputLimits, SweepWhoseRunsDirectoryIsAFileIsBadInput) {
  const std::string path = dir_ + "/sweep.json";
  write_file(path, json{{"base", json::parse(default_config_text())}, {"axes", {{"/plan/tp", {1}}}}}.dump());
  fs::create_directories(dir_ + "/out");
  write_file(dir_ + "/out/runs", "not a directory");
  auto result = run_servesim("sweep " + path + " --out " + dir_ + "/out");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.err, "servesim: error: " + dir_ +
                            "/out/runs: exists and is not a directory (the sweep writes each plan's run under it)\n");
  EXPECT_EQ(read_file(dir_ + "/out/runs"), "not a directory");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ + "/out"), fs::directory_iterator()), 1);
}

// An empty "gemm" list fitted four parameters to nothing and exited 0.
TEST_F(BadInputLimits, CalibrationWithoutEnoughGemmRowsIsBadInput) {
  const std::string path = dir_ + "/bench.json";
  write_file(path, R"({"env": {"gpu": "NVIDIA H100 80GB HBM3", "sms": 132}, "gemm": [], "attention": [],
                       "hbm_copy_GBps_rw": 3000, "launch": {"eager_tiny_op_us": 16, "graph_tiny_kernel_us": 1}})");
  expect_rejected("calibrate " + path,
                  path + ": /gemm: 0 rows; the GEMM curve has 4 parameters: give at least 4 rows of different shapes",
                  false);
}

TEST_F(BadInputLimits, CalibrationWithOneAttentionRowOfAKindIsBadInput) {
  json bench = {{"env", {{"gpu", "NVIDIA H100 80GB HBM3"}, {"sms", 132}}},
                {"gemm", json::array()},
                {"attention", {{{"kind", "prefill_causal"}, {"B", 1}, {"S", 512}, {"ms", 0.1}}}},
                {"hbm_copy_GBps_rw", 3000},
                {"launch", {{"eager_tiny_op_us", 16}, {"graph_tiny_kernel_us", 1}}}};
  for (int m : {1, 16, 256, 4096}) bench["gemm"].push_back({{"M", m}, {"N", 4096}, {"K", 4096}, {"ms", 0.01 * m}});
  const std::string path = dir_ + "/bench.json";
  write_file(path, bench.dump());
  expect_rejected("calibrate " + path,
                  path + ": /attention: 1 rows of kind \"prefill_causal\"; its curve has 2 parameters: give at least 2",
                  false);
}

// `servesim step` multiplied token counts up to 2^30 x 2^30 in int64 (signed overflow) and
// printed an iteration of 5e20 s with exit 0.
TEST_F(BadInputLimits, StepBatchSizeBeyondTheLimitIsRejected) {
  const std::string path = dir_ + "/step.json";
  for (const std::string count : {"1073741824", "18446744073709551615"}) {
    write_file(path, R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm", "batch": [["decode", )" +
                         count + ", 10]]}");
    expect_rejected("step " + path, path + ": /batch/0/1: bad value " + count + ": batch size must be at most 1048576",
                    false);
  }
}

TEST_F(BadInputLimits, StepPromptLengthBeyondTheLimitIsRejected) {
  const std::string path = dir_ + "/step.json";
  write_file(path, R"({"hardware": "h100-sxm", "model": "llama-3.1-8b", "engine": "vllm",
                       "batch": [["prefill", 1, 1073741824]]})");
  expect_rejected("step " + path, path + ": /batch/0/2: bad value 1073741824: prompt length must be at most 16777216",
                  false);
}

TEST_F(BadInputLimits, StepBatchWhoseEntriesSumBeyondTheTokenLimitIsRejectedAtTheEntryThatCrossesIt) {
  json batch = json::array();
  for (int i = 0; i < 20; ++i) batch.push_back({"prefill", 65536, 65536});  // 2^32 tokens each
  const std::string path = dir_ + "/step.json";
  write_file(path, json{{"hardware", "h100-sxm"}, {"model", "llama-3.1-8b"}, {"engine", "vllm"}, {"batch", batch}}.dump());
  expect_rejected("step " + path,
                  path + ": /batch/16: the batch holds more than 68719476736 tokens (batch size x prompt or context "
                         "length, summed over the entries)",
                  false);
}

}  // namespace
}  // namespace servesim

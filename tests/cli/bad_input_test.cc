// Every kind of bad input to `servesim run` gets one line on stderr naming the file
// and JSON pointer, exit status 2, and nothing written to the output directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli/process.h"

namespace servesim {
namespace {

using nlohmann::json;
using testing::make_temp_dir;
using testing::read_file;
using testing::run_servesim;
using testing::write_file;

const std::string kDefaultConfig = std::string(SERVESIM_TEST_DATA_DIR) + "/../../workloads/examples/default.json";
const std::string kH100 = std::string(SERVESIM_TEST_DATA_DIR) + "/../../hardware/catalog/h100-sxm.json";

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the bundled default config changed by `edit` and returns its path.
  std::string config_with(const std::function<void(json&)>& edit) {
    json config = json::parse(read_file(kDefaultConfig));
    edit(config);
    const std::string path = dir_ + "/config.json";
    write_file(path, config.dump(2));
    return path;
  }

  // Runs `servesim run PATH --out DIR/out`; expects exit 2, exactly `message`, and no DIR/out.
  void expect_rejected(const std::string& path, const std::string& message) {
    const std::string out = dir_ + "/out";
    auto result = run_servesim("run " + path + " --out " + out);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_EQ(result.err, "servesim: error: " + path + ": " + message + "\n");
    EXPECT_EQ(result.out, "");
    EXPECT_FALSE(std::filesystem::exists(out)) << "output written despite the error";
  }

  std::string dir_;
};

TEST_F(BadInput, MalformedJsonNamesLineAndColumn) {
  const std::string path = dir_ + "/config.json";
  write_file(path, "{\n  \"hardware\": \"h100-sxm\",\n  \"model\": \n}\n");
  expect_rejected(path,
                  "malformed JSON: line 4, column 1: syntax error while parsing value - unexpected '}'; expected "
                  "'[', '{', or a literal");
}

TEST_F(BadInput, UnknownKeyNamesItsPointerAndTheAllowedKeys) {
  expect_rejected(config_with([](json& c) { c["schedular"] = json::object(); }),
                  "/schedular: unknown key 'schedular'; allowed: cache, cluster, collectives, disaggregation, engine, hardware, kv_sample_interval, "
                  "model, plan, precision, router, scheduler, slo, workload");
}

TEST_F(BadInput, UnknownNestedKeyNamesItsPointer) {
  expect_rejected(config_with([](json& c) { c["cache"]["block_size"] = 16; }),
                  "/cache/block_size: unknown key 'block_size'; allowed: block_tokens, cuda_graph_memory, "
                  "gpu_memory_utilization, impl, max_model_len, non_torch_memory, num_gpu_blocks_override, offload, "
                  "preemption, prefix_caching");
}

TEST_F(BadInput, MissingRequiredKey) {
  expect_rejected(config_with([](json& c) { c.erase("model"); }), "/: missing required key 'model'");
}

TEST_F(BadInput, WrongType) {
  expect_rejected(config_with([](json& c) { c["scheduler"]["max_num_seqs"] = "many"; }),
                  "/scheduler/max_num_seqs: expected an integer, got \"many\"");
}

TEST_F(BadInput, UnitStringThatDoesNotParse) {
  expect_rejected(config_with([](json& c) { c["slo"]["ttft"] = "soon"; }),
                  "/slo/ttft: bad value \"soon\": expected a number followed by a unit; expected a duration, e.g. "
                  "\"1.5 us\"");
}

TEST_F(BadInput, UnitWithTheWrongDimension) {
  expect_rejected(config_with([](json& c) {
                    c["hardware"] = json::parse(read_file(kH100));
                    c["hardware"]["gpu"]["hbm_bandwidth"] = "5 W";
                  }),
                  "/hardware/gpu/hbm_bandwidth: bad value \"5 W\": unit 'W' has the wrong dimension; expected a "
                  "bandwidth, e.g. \"64 GB/s\"");
}

TEST_F(BadInput, NegativeBandwidth) {
  expect_rejected(config_with([](json& c) {
                    c["hardware"] = json::parse(read_file(kH100));
                    c["hardware"]["gpu"]["hbm_bandwidth"] = "-3 TB/s";
                  }),
                  "/hardware/gpu/hbm_bandwidth: bad value \"-3 TB/s\": must be positive");
}

TEST_F(BadInput, ZeroSize) {
  expect_rejected(config_with([](json& c) {
                    c["hardware"] = json::parse(read_file(kH100));
                    c["hardware"]["gpu"]["hbm"] = "0 GB";
                  }),
                  "/hardware/gpu/hbm: bad value \"0 GB\": must be positive");
}

TEST_F(BadInput, UnknownCatalogNameListsTheAvailableOnes) {
  expect_rejected(config_with([](json& c) { c["hardware"] = "h900"; }),
                  "/hardware: unknown hardware 'h900'; available: a100-sxm-80gb, b200, gb200, gh200, h100-pcie, h100-sxm, "
                  "h200-sxm");
}

TEST_F(BadInput, NonexistentInputFile) {
  const std::string path = dir_ + "/missing.json";
  expect_rejected(path, "cannot open file (does it exist and is it readable?)");
}

TEST_F(BadInput, OutputDirectoryNotWritable) {
  // A regular file where a parent directory should be: no user, root included, can create it.
  const std::string blocker = dir_ + "/blocker";
  write_file(blocker, "");
  auto result = run_servesim("run " + kDefaultConfig + " --out " + blocker + "/out");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim: error: " + blocker +
                            "/out: output directory not writable (cannot create it: Not a directory)\n");
}

}  // namespace
}  // namespace servesim

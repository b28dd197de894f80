// `servesim calibrate` on microbenchmark files: GPU-only (CUDA-graph) timings
// are fitted without a dispatch floor, the reference engine's own eager op cost
// becomes the eager launch cost, and files without those keys calibrate exactly
// as the shipped calibrations were made.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/energy/power_model.h"
#include <nlohmann/json.hpp>

#include "models/execution/calibration_fit.h"
#include "models/execution/op_level_model.h"
#include "sim/config/calibration_io.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"
#include "sim/core/units.h"

namespace servesim {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string temp_path(const std::string& suffix) {
  const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  return std::filesystem::temp_directory_path().string() + "/servesim_calibrate_" + name + suffix;
}

struct CommandResult {
  int status = -1;
  std::string out, err;
};

CommandResult run_servesim(const std::string& arguments) {
  const std::string out = temp_path(".out"), err = temp_path(".err");
  const int raw = std::system((std::string(SERVESIM_BINARY) + " " + arguments + " >" + out + " 2>" + err).c_str());
  CommandResult r;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_all(out);
  r.err = read_all(err);
  return r;
}

// The made-up GPU of the synthetic files: round curve parameters, no occupancy
// or overlap terms, and a 20 us host dispatch in every single-call time.
GpuEfficiency synthetic_gpu() {
  GpuEfficiency eff;
  eff.gemm_latency_s = 4e-6;
  eff.gemm_flops_per_s = 700e12;
  eff.gemm_memory_latency_s = 3e-6;
  eff.gemm_bytes_per_s = 4.2e12;
  eff.attention_prefill_latency_s = 6e-6;
  eff.attention_prefill_flops_per_s = 500e12;
  eff.attention_decode_latency_s = 5e-6;
  eff.attention_decode_bytes_per_s = 3.8e12;
  return eff;
}
constexpr double kDispatchS = 20e-6;
constexpr int64_t kSms = 132;

double prefill_tile_flops(int64_t seq) { return causal_tile_pairs(seq, 0) * 4.0 * 128.0 * 128.0 * 32.0 * 128.0; }

// A tiny microbenchmark file whose times follow synthetic_gpu() exactly:
// graph_ms = GPU time, ms = GPU time + dispatch (when with_graph_ms).
nlohmann::json synthetic_microbench(bool with_graph_ms) {
  const GpuEfficiency gpu = synthetic_gpu();
  nlohmann::json j;
  j["env"] = {{"gpu", "Synthetic GPU"}, {"sms", kSms}};
  j["gemm"] = nlohmann::json::array();
  for (const auto& [n, k] : std::vector<std::pair<int, int>>{{6144, 4096}, {4096, 14336}, {128256, 4096}}) {
    for (int m : {1, 8, 32, 128, 512, 2048, 8192}) {
      const double gpu_s = gemm_cost(gpu, kSms, m, n, k, 2.0).seconds;
      nlohmann::json row = {{"name", "g"}, {"M", m}, {"N", n}, {"K", k}, {"ms", (gpu_s + kDispatchS) * 1e3}};
      if (with_graph_ms) row["graph_ms"] = gpu_s * 1e3;
      j["gemm"].push_back(row);
    }
  }
  j["attention"] = nlohmann::json::array();
  for (int s : {128, 512, 2048, 8192, 32768}) {
    const double gpu_s = gpu.attention_prefill_latency_s + prefill_tile_flops(s) / gpu.attention_prefill_flops_per_s;
    nlohmann::json row = {{"kind", "prefill_causal"}, {"B", 1}, {"S", s}, {"ms", (gpu_s + kDispatchS) * 1e3}};
    if (with_graph_ms) row["graph_ms"] = gpu_s * 1e3;
    j["attention"].push_back(row);
  }
  for (const auto& [b, c] : std::vector<std::pair<int, int>>{{1, 1024}, {1, 16384}, {16, 2048}, {64, 2048}, {32, 8192}}) {
    const double kv_bytes = 2.0 * b * 8 * c * 128 * 2;
    const double gpu_s = gpu.attention_decode_latency_s + kv_bytes / gpu.attention_decode_bytes_per_s;
    nlohmann::json row = {{"kind", "decode"}, {"B", b}, {"C", c}, {"kv_bytes", kv_bytes},
                          {"sdpa_ms", (gpu_s + kDispatchS) * 1e3}, {"bmm_ms", (gpu_s + 2 * kDispatchS) * 1e3}};
    if (with_graph_ms) {
      row["sdpa_graph_ms"] = gpu_s * 1e3;
      row["bmm_graph_ms"] = 1.5 * gpu_s * 1e3;
      row["graph_ms"] = gpu_s * 1e3;
    }
    j["attention"].push_back(row);
  }
  j["decode_attention_impl"] = "sdpa";
  j["hbm_copy_GBps_rw"] = 4000.0;
  j["launch"] = {{"eager_tiny_op_us", 16.4}, {"graph_tiny_kernel_us", 1.1}};
  return j;
}

std::string write_file(const nlohmann::json& j) {
  const std::string path = temp_path(".json");
  std::ofstream(path) << j.dump(1);
  return path;
}

GpuEfficiency calibrate_file(const std::string& path) {
  return fit_efficiency(read_microbench(path), load_node("h200-sxm", false).gpu, nullptr);
}

// System: single-call decode attention rows of 32 query / 8 KV heads x 128 generated from
// t = 20 us + B x 0.5 us + KV bytes / (3 TB/s x x / (x + 8)), x = B x 8, plus one warm-up row
// (B = 1, C = 1024) at three times its curve; the other kinds as in synthetic_microbench.
// Expectation: calibrate drops the warm-up row and recovers the half point (8, on its grid), the
// per-sequence time within 1 ns, the latency within 0.05 us and the bandwidth within 0.5%.
TEST(Calibrate, DecodeRowsRecoverTheOccupancyHalfPointAndThePerSequenceTime) {
  nlohmann::json j = synthetic_microbench(false);
  nlohmann::json attention = nlohmann::json::array();
  for (const auto& row : j["attention"]) {
    if (row["kind"] == "prefill_causal") attention.push_back(row);
  }
  for (const auto& [b, c] : std::vector<std::pair<int, int>>{
           {1, 1024}, {1, 16384}, {4, 4096}, {16, 2048}, {64, 2048}, {256, 1024}, {32, 8192}}) {
    const double kv_bytes = 2.0 * b * 8 * c * 128 * 2;
    const double items = 8.0 * b;
    double t = 20e-6 + b * 0.5e-6 + kv_bytes * (items + 8.0) / items / 3e12;
    if (b == 1 && c == 1024) t *= 3.0;
    attention.push_back({{"kind", "decode"}, {"B", b}, {"C", c}, {"kv_bytes", kv_bytes}, {"sdpa_ms", t * 1e3},
                         {"bmm_ms", 2.0 * t * 1e3}});
  }
  j["attention"] = attention;
  std::vector<FitQuality> quality;
  const GpuEfficiency fit = fit_efficiency(read_microbench(write_file(j)), load_node("h200-sxm", false).gpu, &quality);
  EXPECT_EQ(fit.attention_decode_half_heads, 8.0);
  EXPECT_NEAR(fit.attention_decode_sequence_s, 0.5e-6, 1e-9);
  EXPECT_NEAR(fit.attention_decode_latency_s, 20e-6, 0.05e-6);
  EXPECT_NEAR(fit.attention_decode_bytes_per_s / 3e12, 1.0, 0.005);
  bool reported = false;
  for (const FitQuality& q : quality) {
    if (q.curve.rfind("decode attention", 0) == 0) {
      reported = true;
      EXPECT_EQ(q.points, 6);  // the warm-up row left out
      EXPECT_NE(q.curve.find("1 outliers dropped"), std::string::npos);
    }
  }
  EXPECT_TRUE(reported);
}

// System: microbenchmark rows generated from known GEMM, prefill- and
// decode-attention curves; every single-call time carries 20 us of dispatch.
// Expectation: with graph_ms on every row the fit uses all points (no dispatch
// floor) and recovers each latency within 0.05 us and each rate within 0.5%.
TEST(Calibrate, GraphTimedRowsRecoverTheGpuCurveParameters) {
  const GpuEfficiency truth = synthetic_gpu();
  const std::string path = write_file(synthetic_microbench(true));
  const Microbench bench = read_microbench(path);
  EXPECT_TRUE(bench.gemm_gpu_only);
  EXPECT_TRUE(bench.prefill_attention_gpu_only);
  EXPECT_TRUE(bench.decode_attention_gpu_only);
  std::vector<FitQuality> quality;
  const GpuEfficiency fit = fit_efficiency(bench, load_node("h200-sxm", false).gpu, &quality);
  constexpr double kLatencyS = 0.05e-6, kRate = 0.005;
  EXPECT_NEAR(fit.gemm_latency_s, truth.gemm_latency_s, kLatencyS);
  EXPECT_NEAR(fit.gemm_flops_per_s / truth.gemm_flops_per_s, 1.0, kRate);
  EXPECT_NEAR(fit.gemm_memory_latency_s, truth.gemm_memory_latency_s, kLatencyS);
  EXPECT_NEAR(fit.gemm_bytes_per_s / truth.gemm_bytes_per_s, 1.0, kRate);
  EXPECT_EQ(fit.gemm_half_tiles, 0.0);
  EXPECT_EQ(fit.gemm_memory_half_tiles, 0.0);
  EXPECT_EQ(fit.gemm_overlap, 0.0);
  EXPECT_NEAR(fit.attention_prefill_latency_s, truth.attention_prefill_latency_s, kLatencyS);
  EXPECT_NEAR(fit.attention_prefill_flops_per_s / truth.attention_prefill_flops_per_s, 1.0, kRate);
  EXPECT_NEAR(fit.attention_decode_latency_s, truth.attention_decode_latency_s, kLatencyS);
  EXPECT_NEAR(fit.attention_decode_bytes_per_s / truth.attention_decode_bytes_per_s, 1.0, kRate);
  ASSERT_EQ(quality.size(), 3u);
  EXPECT_EQ(quality[0].points, 21);  // every GEMM row: none is floor bound or an outlier
  EXPECT_EQ(quality[1].points, 5);
  EXPECT_EQ(quality[2].points, 5);
  for (const FitQuality& q : quality) EXPECT_LT(q.max_relative_error, 1e-3) << q.curve;
}

// Fixed terms fitted to GPU-only timings are GPU time: the calibration file says
// so ("gpu_time": true), reads back the same, and iterations keep them; fixed
// terms fitted to single-call timings are dropped inside iterations.
TEST(Calibrate, GraphTimedFixedTermsSurviveTheFileAndAreKeptInsideIterations) {
  const Microbench bench = read_microbench(write_file(synthetic_microbench(true)));
  const GpuEfficiency fit = fit_efficiency(bench, load_node("h200-sxm", false).gpu, nullptr);
  const nlohmann::json text = calibration_to_json(fit, "synthetic", {}, "synthetic microbenchmarks");
  EXPECT_EQ(text["gemm"]["gpu_time"], true);
  EXPECT_EQ(text["attention_decode"]["gpu_time"], true);
  ConfigNode node(std::make_shared<const nlohmann::json>(text), "synthetic.json");
  const GpuEfficiency back = read_calibration(node);
  EXPECT_TRUE(back.gemm_fixed_term_is_gpu_time && back.prefill_attention_fixed_term_is_gpu_time &&
              back.decode_attention_fixed_term_is_gpu_time);
  const GpuEfficiency in_iteration = iteration_efficiency(back);
  EXPECT_GT(in_iteration.gemm_memory_latency_s, 0.0);
  EXPECT_DOUBLE_EQ(in_iteration.gemm_memory_latency_s, back.gemm_memory_latency_s);
  EXPECT_DOUBLE_EQ(in_iteration.attention_decode_latency_s, back.attention_decode_latency_s);

  const GpuEfficiency single_call =
      fit_efficiency(read_microbench(write_file(synthetic_microbench(false))), load_node("h200-sxm", false).gpu,
                     nullptr);
  const nlohmann::json single_text = calibration_to_json(single_call, "synthetic", {}, "synthetic");
  EXPECT_FALSE(single_text["gemm"].contains("gpu_time"));
  EXPECT_EQ(iteration_efficiency(single_call).gemm_memory_latency_s, 0.0);
  EXPECT_EQ(iteration_efficiency(single_call).attention_decode_latency_s, 0.0);
}

// The shipped H200 calibration's power block (fitted DVFS exponent) reads back into the GPU's power
// parameters; a calibration written before power-limited clocks, with the 8192^3 rate cap
// gemm.sustained_rate, is refused at that key (the cap is no longer part of the model).
TEST(Calibrate, TheDvfsExponentReachesThePowerModelAndTheOldSustainedRateKeyIsRefused) {
  const GpuSpec gpu = load_node("h200-sxm").gpu;
  nlohmann::json text = calibration_to_json(gpu.efficiency, "NVIDIA H200", {}, "shipped");
  ASSERT_EQ(text["power"]["dvfs_exponent"], 1.5);
  text["power"]["dvfs_exponent"] = 3.0;
  ConfigNode node(std::make_shared<const nlohmann::json>(text), "h200.json");
  GpuSpec changed = gpu;
  changed.efficiency = read_calibration(node);
  EXPECT_EQ(activity_power_for(changed).dvfs_exponent, 3.0);
  EXPECT_EQ(activity_power_for(gpu).dvfs_exponent, 1.5);

  text["gemm"]["sustained_rate"] = "640.8 TFLOP/s";
  ConfigNode old(std::make_shared<const nlohmann::json>(text), "old.json");
  try {
    (void)read_calibration(old);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "old.json: /gemm/sustained_rate: unknown key 'sustained_rate'; allowed: bandwidth, gpu_time, "
              "half_tiles, latency, measured_shapes, memory_half_tiles, memory_latency, overlap, rate, tile_m, tile_n");
  }
}

// Same rows without graph_ms: the single-call times (GPU + 20 us dispatch) are
// fitted as before, floor-bound points left out, so the GPU curve is NOT
// recovered: the new key is what makes the difference.
TEST(Calibrate, SingleCallRowsOfTheSameGpuKeepTheDispatchFloorFit) {
  const std::string path = write_file(synthetic_microbench(false));
  const Microbench bench = read_microbench(path);
  EXPECT_FALSE(bench.gemm_gpu_only);
  std::vector<FitQuality> quality;
  const GpuEfficiency fit = fit_efficiency(bench, load_node("h200-sxm", false).gpu, &quality);
  ASSERT_EQ(quality.size(), 3u);
  EXPECT_LT(quality[0].points, 21);
  EXPECT_GT(std::fabs(fit.attention_decode_latency_s - synthetic_gpu().attention_decode_latency_s), 5e-6);
}

// A file with graph_ms on some GEMM rows only would fit one curve to two kinds
// of timing: one-line error naming the first row that breaks the pattern.
TEST(Calibrate, GraphTimesOnSomeGemmRowsOnlyAreRejected) {
  nlohmann::json j = synthetic_microbench(true);
  j["gemm"][3].erase("graph_ms");
  const std::string path = write_file(j);
  try {
    read_microbench(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              path + ": /gemm/3/graph_ms: missing here but present on the earlier gemm rows: every row of a kind "
                     "must be timed the same way");
  }
}

// System: a microbenchmark file with launch.eager_engine_op_us = 12.5 (the
// reference engine's layer: 36 ops, 450 us). Expectation: the calibration's
// eager launch cost is 12.5 us (not the 16.4 us tiny-op loop), and an eager
// decode iteration's host time is its launches x 12.5 us.
TEST(Calibrate, EagerEngineOpCostBecomesTheEagerLaunchCost) {
  nlohmann::json j = synthetic_microbench(false);
  j["launch"]["eager_engine_op_us"] = 12.5;
  j["launch"]["eager_engine_ops_per_layer"] = 36;
  j["launch"]["eager_engine_layer_us"] = 450.0;
  const GpuEfficiency fit = calibrate_file(write_file(j));
  EXPECT_DOUBLE_EQ(fit.eager_launch_s, 12.5e-6);

  Deployment d;
  d.node = load_node("h200-sxm");
  d.node.gpu.efficiency = fit;
  d.node.gpu.efficiency.calibrated = true;
  d.model = load_model("llama-3.1-8b");
  d.engine = load_engine("reference-eager");
  const IterationPrediction p = OpLevelExecutionModel(d).predict(BatchShape{{Segment{1, 1, 1024}}});
  bool found = false;
  for (const OpCost& op : p.ops) {
    if (op.name != "host_launch") continue;
    found = true;
    EXPECT_NEAR(op.seconds, static_cast<double>(op.count) * 12.5e-6, 1e-12);
  }
  EXPECT_TRUE(found);

  // Without the key the tiny-op loop's cost is scaled to an engine op's.
  EXPECT_DOUBLE_EQ(calibrate_file(write_file(synthetic_microbench(false))).eager_launch_s,
                   16.4e-6 * kEngineOpPerTinyOp);
}

// Unit: the eager launch cost is launches x cost fitted (relative least squares)
// to the host-bound eager iterations only; rows close to their graph time are GPU
// bound and carry no information on the host. Oracle: rows generated from 13 us
// per launch with +-2% noise of opposite signs give 13 us within 0.1%.
TEST(Calibrate, HostBoundEagerIterationsGiveTheLaunchCost) {
  std::vector<EagerIterationSample> rows = {
      {"decode 1x1024", 1000.0, 1000.0 * 13e-6 * 1.02, 6e-3},
      {"decode 64x1024", 1000.0, 1000.0 * 13e-6 * 0.98, 9e-3},
      {"prefill 1x2048", 1100.0, 62e-3, 61e-3},  // GPU bound: ignored
  };
  FitQuality quality;
  EXPECT_NEAR(fit_eager_launch(rows, &quality), 13e-6, 13e-9);
  EXPECT_EQ(quality.points, 2);
  EXPECT_NEAR(quality.max_relative_error, 0.02, 1e-3);
  rows.resize(2);
  rows.push_back({"prefill 1x128", 1064.0, 1064.0 * 13e-6, 8e-3});
  EXPECT_NEAR(fit_eager_launch(rows, nullptr), 13e-6, 13e-9);
  EXPECT_EQ(fit_eager_launch({{"prefill 1x2048", 1100.0, 62e-3, 61e-3}}, nullptr), 0.0);
  EXPECT_EQ(fit_eager_launch({}, nullptr), 0.0);
}

// The reference-eager profile describes 36 launches per layer; a measured layer
// of 36 ops passes quietly, one of 45 (+25%) prints one warning line.
TEST(Calibrate, WarnsWhenTheMeasuredOpsPerLayerDisagreeWithTheEngineProfile) {
  EXPECT_EQ(launches_per_layer(load_engine("reference-eager")), 36);
  nlohmann::json j = synthetic_microbench(false);
  j["launch"]["eager_engine_op_us"] = 12.5;
  j["launch"]["eager_engine_ops_per_layer"] = 36;
  j["launch"]["eager_engine_layer_us"] = 450.0;
  const CommandResult quiet = run_servesim("calibrate " + write_file(j) + " --hardware h200-sxm");
  ASSERT_EQ(quiet.status, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("warning"), std::string::npos) << quiet.err;
  EXPECT_EQ(nlohmann::json::parse(quiet.out).at("eager_launch").get<std::string>(), "12.5 us");

  j["launch"]["eager_engine_ops_per_layer"] = 45;
  const CommandResult loud = run_servesim("calibrate " + write_file(j) + " --hardware h200-sxm");
  ASSERT_EQ(loud.status, 0) << loud.err;
  EXPECT_NE(loud.err.find("calibrate: warning: the measured reference engine layer launches 45 ops, the "
                          "reference-eager profile describes 36 per layer (+25%)"),
            std::string::npos)
      << loud.err;
}

std::string shared_calibration_dir() {
  for (const std::string& candidate : {servesim_home() + "/../shared/calibration",
                                       std::string(SERVESIM_TEST_DATA_DIR) + "/../../../shared/calibration"}) {
    if (std::filesystem::exists(candidate + "/h200_microbench_and_llama3_8b.json")) return candidate;
  }
  return "";
}

// Files without graph_ms or eager_engine_op_us (the shared H200 and H100
// measurements) regenerate the shipped calibrations byte for byte.
TEST(Calibrate, FilesWithoutTheNewKeysRegenerateTheShippedCalibrationsExactly) {
  const std::string dir = shared_calibration_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/calibration not found: cannot regenerate the shipped calibrations";
  const std::string shipped = servesim_home() + "/models/execution/calibrations/";
  // The H200 calibration also holds the FP8 GEMM fit (calibrate --fp8 on the same host's FP8 table).
  for (const auto& [input, output] : std::vector<std::pair<std::string, std::string>>{
           {"h200_microbench_and_llama3_8b.json --fp8 " + dir + "/h200_fp8_gemm.json", "h200-sxm.json"},
           {"h100_sxm_microbench.json", "h100-sxm.json"}}) {
    const CommandResult r = run_servesim("calibrate " + dir + "/" + input);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, read_all(shipped + output)) << input;
  }
}

// System: calibrating the shared H200 file fits the eager launch cost to its
// host-bound eager iterations (3 of 4 rows; the 1x2048 prefill is GPU bound), and
// kEngineOpPerTinyOp, which scales the tiny-op loop of files without such rows
// (the H100's), is that cost over the same file's tiny-op loop.
TEST(Calibrate, EngineOpPerTinyOpIsTheH200HostBoundFitOverItsTinyOpLoop) {
  const std::string dir = shared_calibration_dir();
  if (dir.empty()) GTEST_SKIP() << "../shared/calibration not found: cannot check the H200 eager fit";
  const CommandResult r = run_servesim("calibrate " + dir + "/h200_microbench_and_llama3_8b.json");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json fit = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& q : fit.at("fit_quality")) {
    if (q.at("curve") != "eager launch (host-bound iterations)") continue;
    found = true;
    EXPECT_EQ(q.at("points"), 3);
    EXPECT_LT(q.at("max_relative_error").get<double>(), 0.05);
  }
  EXPECT_TRUE(found) << r.out;
  const double fitted = parse_quantity(fit.at("eager_launch").get<std::string>(), Dimension::kSeconds);
  const double tiny = read_microbench(dir + "/h200_microbench_and_llama3_8b.json").eager_launch_s;
  EXPECT_NEAR(fitted / tiny, kEngineOpPerTinyOp, 0.0005);
}

// A measurement file with some whole-model tables only (what profile_gpu.py's whole_model section
// writes: no energy table) reads and calibrates; without eager rows the tiny-op rule stays.
TEST(Calibrate, WholeModelTablesAreEachOptional) {
  nlohmann::json j = synthetic_microbench(false);
  j["llama3_8b_arch"] = {{"hidden", 4096}, {"layers", 32}, {"heads", 32}, {"kv_heads", 8}, {"head_dim", 128},
                         {"intermediate", 14336}, {"vocab", 128256}};
  j["llama3_8b_decode"] = {{{"segs", {{"decode", 1, 1024}}}, {"ms", 6.3}}};
  const std::string path = write_file(j);
  const WholeModelTable table = read_whole_model(path);
  ASSERT_EQ(table.cases.size(), 1u);
  EXPECT_EQ(table.cases[0].label, "decode 1x1024");
  const CommandResult r = run_servesim("calibrate " + path + " --hardware h200-sxm");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NEAR(parse_quantity(nlohmann::json::parse(r.out).at("eager_launch").get<std::string>(), Dimension::kSeconds),
              16.4e-6 * kEngineOpPerTinyOp, 1e-10);
}

// Whole-model rows whose segments are not an array, or whose batch sums to more than 2^40 tokens
// (nine 2^30 x 2^30 prefills overflowed int64), are bad input at their row (found by fuzz_calibration).
TEST(Calibrate, WholeModelSegmentsThatAreNoBatchAreBadInput) {
  nlohmann::json j = synthetic_microbench(false);
  j["llama3_8b_arch"] = {{"hidden", 4096}, {"layers", 32}, {"heads", 32}, {"kv_heads", 8}, {"head_dim", 128},
                         {"intermediate", 14336}, {"vocab", 128256}};
  j["llama3_8b_decode"] = {{{"segs", 7.0}, {"ms", 6.3}}};
  std::string path = write_file(j);
  try {
    read_whole_model(path);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              path + ": /llama3_8b_decode/0/segs: expected an array of [\"prefill\"|\"decode\", B, S|C] segments");
  }
  j.erase("llama3_8b_decode");
  nlohmann::json segs = nlohmann::json::array();
  for (int i = 0; i < 9; ++i) segs.push_back({"prefill", int64_t{1} << 30, int64_t{1} << 30});
  j["llama3_8b_prefill"] = {{{"segs", segs}, {"ms", 1.0}}};
  path = write_file(j);
  try {
    read_whole_model(path);
    ADD_FAILURE() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), path + ": /llama3_8b_prefill/0/segs/0: the batch has more than 2^40 tokens");
  }
}

// System: `calibrate --nccl` on Vidur's H100 DGX timings reproduces the shipped
// NVLink 4 fabric's numbers, the inter-node send/recv fit (rows with one GPU per
// node) included.
TEST(Calibrate, NcclTimingsRegenerateTheShippedFabricIncludingItsInterNodeLink) {
  const std::string dir = servesim_home() + "/../shared/data/profiling/vidur/network/h100_dgx";
  if (!std::filesystem::exists(dir + "/send_recv.csv")) GTEST_SKIP() << dir << " not found: cannot refit the fabric";
  const CommandResult r = run_servesim("calibrate --nccl " + dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json fit = nlohmann::json::parse(r.out);
  const nlohmann::json shipped = nlohmann::json::parse(read_all(servesim_home() + "/hardware/catalog/fabric/nvlink4-nvswitch.json"));
  for (const char* key : {"allreduce_latency", "allreduce_bus_bandwidth", "send_recv_latency", "send_recv_bandwidth",
                          "inter_node_send_recv_latency", "inter_node_send_recv_bandwidth"}) {
    EXPECT_EQ(fit.at(key), shipped.at(key)) << key;
  }
}

// System: `calibrate --cpu-overheads` on Vidur's vLLM CPU profile reproduces the shipped x86 host
// work (cpu/sapphire-rapids.json), and the Grace entry is that host work x 1.4 (its fitted Python-side
// factor) with the launch x the published Grace / Xeon per-op host time ratio (33.17 / 13.48 us, cited in
// its source), to the catalog's 4 digits.
TEST(Calibrate, CpuOverheadsRegenerateTheShippedX86HostWorkAndGraceScalesIt) {
  const std::string csv = servesim_home() + "/../shared/data/profiling/vidur/legacy/a100/cpu_overheads.csv";
  if (!std::filesystem::exists(csv)) GTEST_SKIP() << csv << " not found: cannot refit the host work";
  const CommandResult r = run_servesim("calibrate --cpu-overheads " + csv);
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json fit = nlohmann::json::parse(r.out);
  const nlohmann::json x86 = nlohmann::json::parse(read_all(servesim_home() + "/hardware/catalog/cpu/sapphire-rapids.json"));
  EXPECT_EQ(fit.at("iteration_overhead"), x86.at("iteration_overhead"));
  EXPECT_EQ(fit.at("sequence_overhead"), x86.at("sequence_overhead"));
  const HostCpuSpec xeon = load_node("h100-pcie", false).cpu;
  const HostCpuSpec grace = load_node("gh200", false).cpu;
  const double ratio = 33.17 / 13.48;
  EXPECT_NEAR(grace.launch_s, xeon.launch_s * ratio, 0.05e-6);
  EXPECT_NEAR(grace.iteration_overhead_s, xeon.iteration_overhead_s * 1.4, 0.5e-6);
  EXPECT_NEAR(grace.sequence_overhead_s, xeon.sequence_overhead_s * 1.4, 0.05e-6);
}

}  // namespace
}  // namespace servesim

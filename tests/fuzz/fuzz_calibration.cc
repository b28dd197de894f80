// Fuzz target: the calibration reader (sim/config/calibration_io.cc). Each input is read as one
// of our calibration files (read_calibration), as a microbenchmark file (read_microbench) and as
// its whole-model tables (read_whole_model); only ConfigError may come out. What they return is
// checked against what they promise: every curve parameter finite, every whole-model case with a
// batch, positive token counts and a time.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string_view>

#include "sim/config/calibration_io.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace servesim;
  using fuzz::fuzz_require;
  static fuzz::ScratchFile scratch(".json");
  const std::string& path = scratch.write(data, size);
  try {
    ConfigNode node(load_json_file(path), path);
    const GpuEfficiency eff = read_calibration(node);
    fuzz_require(std::isfinite(eff.gemm_flops_per_s) && eff.gemm_flops_per_s > 0.0, "GEMM rate");
    fuzz_require(std::isfinite(eff.gemm_bytes_per_s) && eff.gemm_bytes_per_s > 0.0, "GEMM bandwidth");
    fuzz_require(std::isfinite(eff.gemm_latency_s) && eff.gemm_latency_s >= 0.0, "GEMM latency");
    fuzz_require(std::isfinite(eff.attention_decode_bytes_per_s), "decode attention bandwidth");
  } catch (const ConfigError&) {
  }
  try {
    const Microbench bench = read_microbench(path);
    fuzz_require(bench.gemm.size() >= 4, "a microbenchmark file with under 4 GEMM rows was accepted");
    for (const GemmSample& s : bench.gemm) fuzz_require(s.seconds > 0.0 && std::isfinite(s.seconds), "GEMM time");
  } catch (const ConfigError&) {
  }
  try {
    const WholeModelTable table = read_whole_model(path);
    for (const WholeModelCase& c : table.cases) {
      fuzz_require(!c.batch.segments.empty() || c.tokens == 0, "a case with tokens but no batch");
      fuzz_require(c.tokens >= 0, "negative token count");
      fuzz_require(std::isfinite(c.seconds) && c.seconds > 0.0, "case time");
    }
  } catch (const ConfigError&) {
  }
  return 0;
}

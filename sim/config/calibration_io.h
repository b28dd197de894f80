#pragma once
// Contract: reads and writes calibrations (models/execution/calibrations/*.json,
// our format: fitted curves with units) and reads microbenchmark files in the
// format of ../shared/calibration (what tools/profile_gpu.py writes), including
// the optional whole-model iteration tables used by the fidelity benchmark.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hardware/spec/node_spec.h"
#include "models/execution/calibration_fit.h"
#include "models/execution/execution_model.h"
#include "models/llm/model_spec.h"
#include "sim/core/config_node.h"

namespace servesim {

GpuEfficiency read_calibration(ConfigNode& node);

/// Our calibration JSON: every number with its unit, plus the fit quality and where it came from.
nlohmann::json calibration_to_json(const GpuEfficiency& eff, const std::string& gpu,
                                   const std::vector<FitQuality>& quality, const std::string& inputs);

/// The microbenchmarks of a measurement file (the decode attention of the implementation it names).
Microbench read_microbench(const std::string& path);

/// The FP8 GEMM table of a measurement file ("gemm_fp8", "gemm_fp8_8192_tflops"; env.gpu).
Fp8GemmBench read_fp8_gemm_bench(const std::string& path);

/// One measured whole-model iteration.
struct WholeModelCase {
  std::string label;    // "decode 64x1024", ...
  std::string kind;     // "graph", "eager" or "energy"
  BatchShape batch;
  int64_t tokens = 0;   // new tokens of the iteration
  double seconds = 0.0;  // measured iteration time (energy rows: ms_per_iter)
  double graph_seconds = 0.0;   // eager rows: the same iteration replayed from a CUDA graph
  double watts = 0.0;           // energy rows
  double joules_per_token = 0.0;  // energy rows
};

struct WholeModelTable {
  std::string path;  // the measurement file
  ModelSpec model;  // from llama3_8b_arch
  double weights_bytes = 0.0;
  double idle_w = 0.0;
  std::vector<WholeModelCase> cases;
};

/// The whole-model tables of a measurement file; empty cases when it has none.
WholeModelTable read_whole_model(const std::string& path);

}  // namespace servesim

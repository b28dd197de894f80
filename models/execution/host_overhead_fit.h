#pragma once
// Contract: the engine's serial host work per iteration (scheduling, input
// preparation, sampling, output processing: what HostCpuSpec's
// iteration_overhead and sequence_overhead stand for) as a straight line in the
// batch's sequences, t = fixed + per_sequence x B, fitted by least squares to
// Vidur's vLLM CPU profile (../shared/data/profiling/vidur/legacy/a100/
// cpu_overheads.csv: per model, TP degree and batch size, the medians of
// schedule, prepare_inputs_e2e, sampler_e2e and process_model_outputs in ms).
// Used by `servesim calibrate --cpu-overheads`. The reader throws ConfigError
// naming the file (and line) for a missing file, column or malformed number.
// Seconds. Pure apart from the reader.

#include <cstdint>
#include <string>
#include <vector>

namespace servesim {

/// One profiled operating point: host seconds of one iteration at a batch of `sequences`.
struct HostOverheadSample {
  std::string model;
  int64_t tensor_parallel = 1;
  int64_t sequences = 0;
  double seconds = 0.0;  // schedule + prepare_inputs_e2e + sampler_e2e + process_model_outputs (medians)
};

/// The rows of a Vidur cpu_overheads.csv, in file order.
std::vector<HostOverheadSample> read_cpu_overheads_csv(const std::string& path);

struct HostOverheadFit {
  double iteration_s = 0.0;     // fixed part
  double sequence_s = 0.0;      // per sequence in the batch
  std::size_t points = 0;
  double rms_relative_error = 0.0;
  double max_relative_error = 0.0;
};

/// Ordinary least squares of seconds on sequences (needs two distinct batch sizes; else all zero).
HostOverheadFit fit_host_overhead(const std::vector<HostOverheadSample>& samples);

}  // namespace servesim

#pragma once
// What the sweep command tests share: a small base config (Llama-3.1-8B, 200
// Poisson requests, so a plan runs in well under a second), sweep files built
// on it, and CSV splitting.
#include <sstream>
#include <string>
#include <vector>

namespace servesim::testing {

inline const char* const kSweepBase = R"({
    "hardware": "h100-sxm",
    "model": "llama-3.1-8b",
    "engine": "vllm",
    "plan": {"tp": 1},
    "scheduler": {"impl": "vllm", "max_num_batched_tokens": 8192, "max_num_seqs": 256},
    "workload": {"generator": {"impl": "poisson", "rate": 20, "num_requests": 200, "seed": 7,
                 "input_dist": "lognormal", "input_mu": 6.0, "input_sigma": 0.8, "input_min": 2, "input_max": 4000,
                 "output_dist": "lognormal", "output_mu": 4.5, "output_sigma": 0.7, "output_min": 2,
                 "output_max": 500}},
    "slo": {"ttft": "500 ms", "tpot": "50 ms"}
  })";

/// {"base": kSweepBase, "axes": AXES EXTRA} (EXTRA: more members, each starting with a comma).
inline std::string sweep_text(const std::string& axes, const std::string& extra = "") {
  return std::string(R"({"base": )") + kSweepBase + R"(, "axes": )" + axes + extra + "}";
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Splits a CSV line whose cells hold no quotes (ok rows and headers).
inline std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.push_back("");
  return cells;
}

/// The column of `name` in a CSV header line (-1 if absent).
inline int column_of(const std::string& header, const std::string& name) {
  const std::vector<std::string> cells = split_cells(header);
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (cells[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace servesim::testing

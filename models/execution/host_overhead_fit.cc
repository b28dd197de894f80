#include "models/execution/host_overhead_fit.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/core/config_error.h"

namespace servesim {
namespace {

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::stringstream in(line);
  std::string field;
  while (std::getline(in, field, ',')) fields.push_back(field);
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

}  // namespace

std::vector<HostOverheadSample> read_cpu_overheads_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError::at(path, "cannot open file (does it exist and is it readable?)");
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split_csv_line(line);
  auto column = [&](const std::string& name) {
    const auto at = std::find(header.begin(), header.end(), name);
    if (at == header.end()) throw ConfigError::at_line(path, 1, "missing column '" + name + "'");
    return static_cast<std::size_t>(at - header.begin());
  };
  const std::size_t model = column("model_name");
  const std::size_t batch = column("batch_size");
  const std::size_t tp = column("tensor_parallel_degree");
  const std::size_t parts[] = {column("schedule_median"), column("prepare_inputs_e2e_median"),
                               column("sampler_e2e_median"), column("process_model_outputs_median")};
  std::vector<HostOverheadSample> out;
  long number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::vector<std::string> f = split_csv_line(line);
    if (f.size() != header.size()) {
      throw ConfigError::at_line(path, number, "expected " + std::to_string(header.size()) + " fields");
    }
    HostOverheadSample s;
    s.model = f[model];
    try {
      s.sequences = std::stoll(f[batch]);
      s.tensor_parallel = std::stoll(f[tp]);
      for (std::size_t c : parts) s.seconds += std::stod(f[c]) * 1e-3;  // ms
    } catch (const std::exception&) {
      throw ConfigError::at_line(path, number, "expected numbers in batch_size, tensor_parallel_degree and the medians");
    }
    if (s.sequences < 1 || s.tensor_parallel < 1 || !(s.seconds > 0.0)) {
      throw ConfigError::at_line(path, number, "batch_size, tensor_parallel_degree and the medians must be positive");
    }
    out.push_back(s);
  }
  return out;
}

HostOverheadFit fit_host_overhead(const std::vector<HostOverheadSample>& samples) {
  HostOverheadFit fit;
  const double n = static_cast<double>(samples.size());
  if (samples.size() < 2) return fit;
  double mean_b = 0.0, mean_t = 0.0;
  for (const auto& s : samples) {
    mean_b += static_cast<double>(s.sequences) / n;
    mean_t += s.seconds / n;
  }
  double sbb = 0.0, sbt = 0.0;
  for (const auto& s : samples) {
    const double db = static_cast<double>(s.sequences) - mean_b;
    sbb += db * db;
    sbt += db * (s.seconds - mean_t);
  }
  if (sbb <= 0.0) return fit;
  fit.sequence_s = sbt / sbb;
  fit.iteration_s = mean_t - fit.sequence_s * mean_b;
  fit.points = samples.size();
  double squares = 0.0;
  for (const auto& s : samples) {
    const double e = (fit.iteration_s + fit.sequence_s * static_cast<double>(s.sequences) - s.seconds) / s.seconds;
    squares += e * e;
    fit.max_relative_error = std::max(fit.max_relative_error, std::fabs(e));
  }
  fit.rms_relative_error = std::sqrt(squares / n);
  return fit;
}

}  // namespace servesim

#include "models/comm/nccl_csv.h"

#include <fstream>
#include <sstream>

#include "sim/core/config_error.h"

namespace servesim {

std::vector<CollectiveSample> read_nccl_csv(const std::string& path, NcclRows which) {
  std::ifstream in(path);
  if (!in) throw ConfigError::at(path, "cannot open file (does it exist and is it readable?)");
  std::vector<CollectiveSample> samples;
  std::string line;
  std::getline(in, line);  // header
  long number = 1;
  while (std::getline(in, line)) {
    ++number;
    std::vector<std::string> f;
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) f.push_back(field);
    if (f.size() < 11) throw ConfigError::at_line(path, number, "expected 12 comma-separated fields");
    CollectiveSample s;
    int64_t per_node = 0;
    try {
      s.seconds = std::stod(f[4]) * 1e-3;  // median, ms
      s.ranks = std::stoll(f[7]);
      s.bytes = std::stod(f[8]);
      per_node = std::stoll(f[10]);
    } catch (const std::exception&) {
      throw ConfigError::at_line(path, number, "expected numbers in the median, num_workers, size columns");
    }
    if (per_node < 1 || (per_node < s.ranks && s.ranks % per_node != 0)) {
      throw ConfigError::at_line(path, number, "devices_per_node must be positive and divide num_workers");
    }
    s.nodes = per_node >= s.ranks ? 1 : s.ranks / per_node;
    if ((which == NcclRows::kIntraNode) != (s.nodes == 1)) continue;
    samples.push_back(s);
  }
  return samples;
}

}  // namespace servesim

#include "models/comm/nccl_csv.h"

#include <fstream>
#include <sstream>

#include "sim/config_error.h"

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
    try {
      CollectiveSample s;
      s.seconds = std::stod(f[4]) * 1e-3;  // median, ms
      s.ranks = std::stoll(f[7]);
      s.bytes = std::stod(f[8]);
      const int64_t per_node = std::stoll(f[10]);
      if ((which == NcclRows::kIntraNode) != (per_node >= s.ranks)) continue;
      samples.push_back(s);
    } catch (const std::exception&) {
      throw ConfigError::at_line(path, number, "expected numbers in the median, num_workers, size columns");
    }
  }
  return samples;
}

}  // namespace servesim

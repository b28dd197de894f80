#pragma once
// Contract: reads Vidur's NCCL timing CSVs (../shared/data/profiling/vidur/network/<node>/
// {all_reduce,send_recv}.csv: one row per (num_workers, size), median time in ms, and
// devices_per_node < num_workers when the collective spans nodes) into CollectiveSamples
// (ranks, bytes per GPU, seconds). Used by `servesim calibrate --nccl` and the flow benchmark.
// A missing file or a malformed row is a ConfigError naming the file and line.

#include <string>
#include <vector>

#include "models/comm/collective_model.h"

namespace servesim {

/// Which rows of a Vidur NCCL CSV to keep: the collective within one node, or across nodes.
enum class NcclRows { kIntraNode, kInterNode };

/// The rows of `path` that `which` selects, in file order.
std::vector<CollectiveSample> read_nccl_csv(const std::string& path, NcclRows which);

}  // namespace servesim

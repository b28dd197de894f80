#pragma once
// Contract: the KV offload tier of one replica (LMCache / vLLM CPU-offload
// style): a set of published prefix blocks, named by their chained hash, kept
// below GPU memory (host DRAM, CXL memory or an SSD) after the GPU cache
// evicted them. Holds at most `capacity_blocks` blocks and drops the least
// recently used when full; a lookup that finds a block refreshes it. It only
// remembers which hashes are stored: the replica decides when blocks are
// written out and loaded back and times those moves via the engine.
// Deterministic. Units: blocks.

#include <cstdint>
#include <string>
#include <vector>

#include "models/cache/block_hash_index.h"

namespace servesim {

enum class OffloadTierKind { kHost, kCxl, kSsd };

/// "host", "cxl" or "ssd".
const char* offload_tier_name(OffloadTierKind kind);

struct OffloadTierStats {
  int64_t stored_blocks = 0;   // blocks written to the tier
  int64_t evicted_blocks = 0;  // blocks dropped because the tier was full
  int64_t hit_blocks = 0;      // blocks loaded back to the GPU
};

class KvOffloadTier {
 public:
  explicit KvOffloadTier(int64_t capacity_blocks);

  int64_t capacity_blocks() const { return capacity_; }
  /// Blocks held now.
  int64_t resident_blocks() const { return static_cast<int64_t>(index_.size()); }
  bool contains(uint64_t hash) const { return index_.find(hash) >= 0; }
  /// Stores `hash` as the most recently used block (dropping the least recently used when full);
  /// a hash already held is only refreshed.
  void insert(uint64_t hash);
  /// Number of leading `hashes` held now, at most `max_blocks`; no change.
  int64_t prefix_length(const uint64_t* hashes, int64_t count, int64_t max_blocks) const;
  /// Refreshes the `count` leading `hashes` (all held) and counts them as hits.
  void touch(const uint64_t* hashes, int64_t count);
  const OffloadTierStats& stats() const { return stats_; }

 private:
  void unlink(int32_t slot);
  void push_back(int32_t slot);  // at the most recently used end

  int64_t capacity_;
  std::vector<uint64_t> hash_;
  std::vector<int32_t> prev_, next_;  // LRU ring through the sentinel slot 0, oldest first
  BlockHashIndex index_;  // hash -> slot; grows with the blocks held, not the capacity
  OffloadTierStats stats_;
};

}  // namespace servesim

#pragma once
// Contract: the KV cache of one replica: a fixed number of blocks of
// `block_tokens` tokens (capacity from KvBudget). A running sequence owns a
// block table; blocks are reference counted so sequences with a common
// prefix share them. With prefix caching, every full block is published under
// a chained hash (the hash of all tokens up to and including the block: the
// trace's content hashes where it has them, else the sequence's own content
// identity, see extend_private_block_hashes) and stays findable after its owners release it, until
// it is evicted: free blocks are reused least-recently-freed first (LRU), and
// a reused block loses its hash. It does not decide who is preempted (the
// scheduler does) nor time any data movement (the replica does, via the
// engine). Evicted hashes can be logged for an offload tier (see
// offload_tier.h). Deterministic; no allocation in steady state. Units: tokens, blocks.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sim/core/params.h"

namespace servesim {

enum class PreemptionMode { kRecompute, kSwap };

struct KvCacheStats {
  int64_t lookup_tokens = 0;  // prompt tokens looked up in the prefix cache
  int64_t hit_tokens = 0;     // of which were found cached
  int64_t evictions = 0;      // cached blocks reused for other data
};

class KvCache {
 public:
  static constexpr const char* kInterfaceName = "kv-cache";
  static constexpr const char* kInterfaceSummary =
      "KV block allocation, prefix cache and preemption mode (\"cache\": {\"impl\": NAME, ...})";
  /// Params and the replica's KV capacity in tokens (from KvBudget).
  using Factory = std::function<std::unique_ptr<KvCache>(const ParamValues&, int64_t capacity_tokens)>;

  virtual ~KvCache() = default;
  /// Tokens per block.
  virtual int64_t block_tokens() const = 0;
  /// Blocks in the cache.
  virtual int64_t total_blocks() const = 0;
  /// Blocks referenced by at least one sequence.
  virtual int64_t used_blocks() const = 0;
  /// Blocks that can be handed out now (free or cached-but-unreferenced).
  virtual int64_t free_blocks() const = 0;
  virtual bool prefix_caching() const = 0;
  virtual PreemptionMode preemption() const = 0;

  /// Appends to `table` the blocks already cached for the leading `hashes` (stopping at the
  /// first miss, at most `max_blocks`) and references them. Returns the number of blocks hit.
  virtual int64_t acquire_prefix(const uint64_t* hashes, int64_t count, int64_t max_blocks,
                                 std::vector<int32_t>& table) = 0;
  /// Number of leading `hashes` cached now (at most `max_blocks`), without referencing them;
  /// `*unreferenced` = how many of those sit in the free pool (acquiring them uses free blocks).
  virtual int64_t cached_prefix(const uint64_t* hashes, int64_t count, int64_t max_blocks,
                                int64_t* unreferenced) const = 0;
  /// Changes whenever the set of cached hashes changes (publish or eviction).
  virtual uint64_t generation() const = 0;
  /// Grows `table` to cover `tokens` tokens; false (and no change) if not enough free blocks.
  virtual bool grow(std::vector<int32_t>& table, int64_t tokens) = 0;
  /// Publishes a full block under `hash` so later sequences can find it.
  virtual void publish(int32_t block, uint64_t hash) = 0;
  /// Drops the sequence's references; blocks whose count reaches 0 become free (tail blocks
  /// first, so a shared prefix outlives the sequence's own suffix).
  virtual void release(std::vector<int32_t>& table) = 0;
  /// Counts a prefix lookup of `tokens` prompt tokens of which `hits` were cached.
  virtual void record_lookup(int64_t tokens, int64_t hits) = 0;
  /// From now on appends the hash of every cached block it evicts to `*log` (null: stop); the
  /// owner drains it (the KV offload tier keeps evicted blocks below GPU memory).
  virtual void set_eviction_log(std::vector<uint64_t>* log) = 0;
  virtual const KvCacheStats& stats() const = 0;
};

/// Hash of a block from the previous block's chained hash and this block's content key.
inline uint64_t chain_hash(uint64_t previous, uint64_t key) {
  uint64_t x = previous ^ (key + 0x9e3779b97f4a7c15ULL + (previous << 6) + (previous >> 2));
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x | 1;  // never 0 (0 = no hash)
}

/// Extends `hashes` (the chained hashes of a sequence's first blocks) to `blocks` blocks with
/// blocks of content no other sequence shares: each block's key is `content_key` + its index,
/// chained from the block before (vLLM hashes every full block, prompt and output alike).
void extend_private_block_hashes(uint64_t content_key, int64_t blocks, std::vector<uint64_t>& hashes);

/// Chained hashes of the full `block_tokens` blocks of a prompt of `prompt_tokens` tokens
/// whose content is described by `prefix_hashes`, each covering `hash_block_tokens` tokens
/// (the last may be partial). Only blocks fully covered by both are hashed.
void prompt_block_hashes(const std::vector<int64_t>& prefix_hashes, int64_t hash_block_tokens,
                         int64_t prompt_tokens, int64_t block_tokens, std::vector<uint64_t>& out);

}  // namespace servesim

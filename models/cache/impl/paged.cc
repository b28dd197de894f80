// Paged KV cache (vLLM's block manager): fixed-size blocks, reference counts,
// chained-hash prefix cache, LRU reuse of unreferenced blocks.
#include <cassert>
#include <string>

#include "models/cache/block_hash_index.h"
#include "models/cache/kv_cache.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {


class PagedKvCache : public KvCache {
 public:
  PagedKvCache(int64_t block_tokens, int64_t blocks, bool prefix_caching, PreemptionMode preemption)
      : block_tokens_(block_tokens), blocks_(blocks), prefix_caching_(prefix_caching), preemption_(preemption),
        free_count_(blocks) {}

  int64_t block_tokens() const override { return block_tokens_; }
  int64_t total_blocks() const override { return blocks_; }
  int64_t used_blocks() const override { return blocks_ - free_count_; }
  int64_t free_blocks() const override { return free_count_; }
  bool prefix_caching() const override { return prefix_caching_; }
  PreemptionMode preemption() const override { return preemption_; }

  int64_t acquire_prefix(const uint64_t* hashes, int64_t count, int64_t max_blocks,
                         std::vector<int32_t>& table) override {
    if (!prefix_caching_) return 0;
    int64_t hit = 0;
    for (; hit < count && hit < max_blocks; ++hit) {
      const int32_t block = cached_.find(hashes[hit]);
      if (block < 0) break;
      if (ref_[block]++ == 0) unlink_free(block);
      table.push_back(block);
    }
    return hit;
  }

  int64_t cached_prefix(const uint64_t* hashes, int64_t count, int64_t max_blocks,
                        int64_t* unreferenced) const override {
    *unreferenced = 0;
    if (!prefix_caching_) return 0;
    int64_t hit = 0;
    for (; hit < count && hit < max_blocks; ++hit) {
      const int32_t block = cached_.find(hashes[hit]);
      if (block < 0) break;
      *unreferenced += ref_[block] == 0;
    }
    return hit;
  }
  uint64_t generation() const override { return generation_; }

  bool grow(std::vector<int32_t>& table, int64_t tokens) override {
    const int64_t needed = (tokens + block_tokens_ - 1) / block_tokens_ - static_cast<int64_t>(table.size());
    if (needed <= 0) return true;
    if (needed > free_count_) return false;
    for (int64_t i = 0; i < needed; ++i) {
      const int32_t block = take_free();
      if (hash_[block] != 0) {
        cached_.erase(hash_[block]);
        if (eviction_log_ != nullptr) eviction_log_->push_back(hash_[block]);
        hash_[block] = 0;
        ++generation_;
        ++stats_.evictions;
      }
      ref_[block] = 1;
      table.push_back(block);
    }
    return true;
  }

  void publish(int32_t block, uint64_t hash) override {
    if (!prefix_caching_ || hash_[block] != 0) return;
    // A block computed twice concurrently stays private; the first copy is the cached one.
    if (cached_.insert(hash, block)) {
      hash_[block] = hash;
      ++generation_;
    }
  }

  void release(std::vector<int32_t>& table) override {
    for (auto it = table.rbegin(); it != table.rend(); ++it) {
      assert(ref_[*it] > 0);  // per block: hot path
      if (--ref_[*it] == 0) push_free(*it);
    }
    table.clear();
  }

  void record_lookup(int64_t tokens, int64_t hits) override {
    stats_.lookup_tokens += tokens;
    stats_.hit_tokens += hits;
  }
  const KvCacheStats& stats() const override { return stats_; }
  void set_eviction_log(std::vector<uint64_t>* log) override { eviction_log_ = log; }

 private:
  // The free list, least recently used first, is the blocks never used yet (ids fresh_ .. blocks_ - 1,
  // in order) followed by a ring of released blocks (head_ .. tail_, linked by prev_ / next_, -1 at
  // either end). Per-block state exists only for blocks handed out at least once (ids < fresh_), so a
  // cache costs memory and time for the blocks a run uses, not for all it could hold.
  int32_t take_free() {  // the head of the free list
    if (fresh_ < blocks_) {
      const int32_t block = static_cast<int32_t>(fresh_++);
      ref_.push_back(0);
      hash_.push_back(0);
      prev_.push_back(-1);
      next_.push_back(-1);
      --free_count_;
      return block;
    }
    const int32_t block = head_;
    unlink_free(block);
    return block;
  }
  void push_free(int32_t block) {  // at the tail: reused last
    prev_[block] = tail_;
    next_[block] = -1;
    if (tail_ >= 0) {
      next_[tail_] = block;
    } else {
      head_ = block;
    }
    tail_ = block;
    ++free_count_;
  }
  void unlink_free(int32_t block) {  // a released block, out of the ring
    const int32_t before = prev_[block], after = next_[block];
    if (before >= 0) {
      next_[before] = after;
    } else {
      head_ = after;
    }
    if (after >= 0) {
      prev_[after] = before;
    } else {
      tail_ = before;
    }
    --free_count_;
  }

  int64_t block_tokens_;
  int64_t blocks_;
  bool prefix_caching_;
  PreemptionMode preemption_;
  int64_t free_count_;
  int64_t fresh_ = 0;  // blocks handed out at least once
  std::vector<int32_t> ref_;
  std::vector<uint64_t> hash_;
  std::vector<int32_t> prev_, next_;
  int32_t head_ = -1, tail_ = -1;  // the ring of released free blocks
  BlockHashIndex cached_;  // at most one entry per block; grows with the blocks published
  KvCacheStats stats_;
  uint64_t generation_ = 0;
  std::vector<uint64_t>* eviction_log_ = nullptr;
};

SERVESIM_REGISTER(KvCache, "paged", "paged KV blocks with prefix caching (chained block hashes, LRU eviction)",
                  (ParamSpecs{
                      ParamSpec::integer("block_tokens", 16, 1, 4096, "tokens per KV block (tokens)"),
                      ParamSpec::boolean("prefix_caching", true, "reuse cached blocks of identical prefixes"),
                      ParamSpec::choice("preemption", "recompute", {"recompute", "swap"},
                                        "what a preempted sequence does with its KV: drop and recompute, or swap "
                                        "to host memory over the host link"),
                      ParamSpec::number("gpu_memory_utilization", 0.9, 0.01, 1.0,
                                        "fraction of GPU memory the engine may use (weights + activations + KV)"),
                      ParamSpec::quantity("non_torch_memory", Dimension::kBytes, "0.35 GiB",
                                          "memory each GPU holds outside PyTorch's allocator when vLLM profiles "
                                          "(CUDA context growth, cuBLAS/NCCL workspaces), kept out of the KV budget; "
                                          "default: vLLM V1 logs of Llama-3.1-8B on one H100 (0.32-0.35 GiB)",
                                          true),
                      ParamSpec::quantity("cuda_graph_memory", Dimension::kBytes, "0 B",
                                          "CUDA-graph pools taken from the KV budget (vLLM 0.11 captures graphs "
                                          "after sizing the KV cache, outside gpu_memory_utilization: 0)",
                                          true),
                      ParamSpec::integer("num_gpu_blocks_override", 0, 0, int64_t{1} << 32,
                                         "KV blocks per replica instead of the computed budget, as vLLM's "
                                         "(0 = computed from gpu_memory_utilization)"),
                      ParamSpec::integer("max_model_len", 0, 0, int64_t{1} << 30,
                                         "longest prompt + output a request may have, as vLLM's (0 = the model's "
                                         "context); the KV cache must hold one such request (tokens)"),
                  }),
                  [](const ParamValues& params, int64_t capacity_tokens) -> std::unique_ptr<KvCache> {
                    const int64_t block_tokens = params.integer("block_tokens");
                    return std::make_unique<PagedKvCache>(
                        block_tokens, capacity_tokens / block_tokens, params.boolean("prefix_caching"),
                        params.string("preemption") == "swap" ? PreemptionMode::kSwap : PreemptionMode::kRecompute);
                  });

}  // namespace
}  // namespace servesim

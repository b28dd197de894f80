#include "models/cache/offload_tier.h"

#include <cassert>

#include "sim/core/check.h"

namespace servesim {

const char* offload_tier_name(OffloadTierKind kind) {
  switch (kind) {
    case OffloadTierKind::kHost: return "host";
    case OffloadTierKind::kCxl: return "cxl";
    case OffloadTierKind::kSsd: return "ssd";
  }
  return "";
}

// Slot 0 is the sentinel of the LRU ring; slots are added as blocks arrive (memory follows use).
KvOffloadTier::KvOffloadTier(int64_t capacity_blocks)
    : capacity_(capacity_blocks), hash_(1, 0), prev_(1, 0), next_(1, 0) {
  SERVESIM_CHECK(capacity_blocks >= 1 && capacity_blocks < (int64_t{1} << 31), "offload tier capacity out of range");
}

void KvOffloadTier::unlink(int32_t slot) {
  next_[prev_[slot]] = next_[slot];
  prev_[next_[slot]] = prev_[slot];
}

void KvOffloadTier::push_back(int32_t slot) {
  const int32_t tail = prev_[0];
  next_[tail] = slot;
  prev_[slot] = tail;
  next_[slot] = 0;
  prev_[0] = slot;
}

void KvOffloadTier::insert(uint64_t hash) {
  const int32_t held = index_.find(hash);
  if (held >= 0) {
    unlink(held);
    push_back(held);
    return;
  }
  int32_t slot;
  if (resident_blocks() >= capacity_) {  // full: drop the least recently used
    slot = next_[0];
    unlink(slot);
    index_.erase(hash_[slot]);
    ++stats_.evicted_blocks;
  } else {
    slot = static_cast<int32_t>(hash_.size());
    hash_.push_back(0);
    prev_.push_back(0);
    next_.push_back(0);
  }
  hash_[slot] = hash;
  index_.insert(hash, slot);
  push_back(slot);
  ++stats_.stored_blocks;
}

int64_t KvOffloadTier::prefix_length(const uint64_t* hashes, int64_t count, int64_t max_blocks) const {
  int64_t n = 0;
  while (n < count && n < max_blocks && index_.find(hashes[n]) >= 0) ++n;
  return n;
}

void KvOffloadTier::touch(const uint64_t* hashes, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const int32_t slot = index_.find(hashes[i]);
    assert(slot >= 0);  // per block: hot path (prefix_length found each one)
    unlink(slot);
    push_back(slot);
  }
  stats_.hit_blocks += count;
}

}  // namespace servesim

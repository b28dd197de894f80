#include "models/cache/offload_tier.h"

#include <cassert>

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
    : capacity_(capacity_blocks), hash_(1, 0), prev_(1, 0), next_(1, 0), keys_(16, 0), values_(16, -1), mask_(15) {
  assert(capacity_blocks >= 1 && capacity_blocks < (int64_t{1} << 31));
}

int32_t KvOffloadTier::find(uint64_t hash) const {
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    if (keys_[i] == hash) return values_[i];
    if (keys_[i] == 0) return -1;
  }
}

void KvOffloadTier::index_insert(uint64_t hash, int32_t slot) {
  if (static_cast<std::size_t>(resident_ + 1) * 2 > keys_.size()) {  // keep the load under one half
    std::vector<uint64_t> keys(keys_.size() * 2, 0);
    std::vector<int32_t> values(keys.size(), -1);
    const std::size_t mask = keys.size() - 1;
    for (std::size_t j = 0; j < keys_.size(); ++j) {
      if (keys_[j] == 0) continue;
      std::size_t i = keys_[j] & mask;
      while (keys[i] != 0) i = (i + 1) & mask;
      keys[i] = keys_[j];
      values[i] = values_[j];
    }
    keys_.swap(keys);
    values_.swap(values);
    mask_ = mask;
  }
  std::size_t i = hash & mask_;
  while (keys_[i] != 0) i = (i + 1) & mask_;
  keys_[i] = hash;
  values_[i] = slot;
  ++resident_;
}

void KvOffloadTier::index_erase(uint64_t hash) {
  std::size_t i = hash & mask_;
  while (keys_[i] != hash) {
    if (keys_[i] == 0) return;
    i = (i + 1) & mask_;
  }
  for (std::size_t j = (i + 1) & mask_; keys_[j] != 0; j = (j + 1) & mask_) {
    const std::size_t home = keys_[j] & mask_;
    if (((j - home) & mask_) >= ((j - i) & mask_)) {
      keys_[i] = keys_[j];
      values_[i] = values_[j];
      i = j;
    }
  }
  keys_[i] = 0;
  values_[i] = -1;
  --resident_;
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
  const int32_t held = find(hash);
  if (held >= 0) {
    unlink(held);
    push_back(held);
    return;
  }
  int32_t slot;
  if (resident_blocks() >= capacity_) {  // full: drop the least recently used
    slot = next_[0];
    unlink(slot);
    index_erase(hash_[slot]);
    ++stats_.evicted_blocks;
  } else {
    slot = static_cast<int32_t>(hash_.size());
    hash_.push_back(0);
    prev_.push_back(0);
    next_.push_back(0);
  }
  hash_[slot] = hash;
  index_insert(hash, slot);
  push_back(slot);
  ++stats_.stored_blocks;
}

int64_t KvOffloadTier::prefix_length(const uint64_t* hashes, int64_t count, int64_t max_blocks) const {
  int64_t n = 0;
  while (n < count && n < max_blocks && find(hashes[n]) >= 0) ++n;
  return n;
}

void KvOffloadTier::touch(const uint64_t* hashes, int64_t count) {
  for (int64_t i = 0; i < count; ++i) {
    const int32_t slot = find(hashes[i]);
    assert(slot >= 0);
    unlink(slot);
    push_back(slot);
  }
  stats_.hit_blocks += count;
}

}  // namespace servesim

#pragma once
// Contract: block hash -> small integer (a block or slot id), the lookup on every
// prefix-cache probe. Open addressing with linear probing and backward-shift
// deletion; grows by doubling to keep the load at most one half, so memory
// follows the entries held. Keys are already-mixed chain hashes and never 0.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace servesim {

class BlockHashIndex {
 public:
  /// Sized for `expected` entries without growing.
  explicit BlockHashIndex(int64_t expected = 8) {
    std::size_t capacity = 16;
    while (capacity < static_cast<std::size_t>(expected) * 2) capacity <<= 1;
    keys_.assign(capacity, 0);
    values_.assign(capacity, -1);
    mask_ = capacity - 1;
  }

  std::size_t size() const { return size_; }

  /// The value of `key`, or -1.
  int32_t find(uint64_t key) const {
    for (std::size_t i = key & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == 0) return -1;
    }
  }

  /// Adds `key`; false (and no change) if it is already present.
  bool insert(uint64_t key, int32_t value) {
    if ((size_ + 1) * 2 > keys_.size()) grow();
    std::size_t i = key & mask_;
    for (; keys_[i] != 0; i = (i + 1) & mask_) {
      if (keys_[i] == key) return false;
    }
    keys_[i] = key;
    values_[i] = value;
    ++size_;
    return true;
  }

  /// Removes `key` if present.
  void erase(uint64_t key) {
    std::size_t i = key & mask_;
    while (keys_[i] != key) {
      if (keys_[i] == 0) return;
      i = (i + 1) & mask_;
    }
    // Backward shift: move later entries of the probe run into the hole.
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
    --size_;
  }

 private:
  void grow() {
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

  std::vector<uint64_t> keys_;
  std::vector<int32_t> values_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace servesim

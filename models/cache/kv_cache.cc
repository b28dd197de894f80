#include "models/cache/kv_cache.h"

#include <algorithm>

namespace servesim {

void prompt_block_hashes(const std::vector<int64_t>& prefix_hashes, int64_t hash_block_tokens,
                         int64_t prompt_tokens, int64_t block_tokens, std::vector<uint64_t>& out) {
  out.clear();
  if (prefix_hashes.empty() || hash_block_tokens <= 0) return;
  const int64_t described = std::min<int64_t>(prompt_tokens, static_cast<int64_t>(prefix_hashes.size()) * hash_block_tokens);
  const int64_t full_blocks = described / block_tokens;
  uint64_t previous = 0x5e5e5e5eULL;
  for (int64_t b = 0; b < full_blocks; ++b) {
    const int64_t first = b * block_tokens;
    const int64_t last = first + block_tokens - 1;
    uint64_t key = static_cast<uint64_t>(first % hash_block_tokens);  // offset inside the first hash block
    for (int64_t h = first / hash_block_tokens; h <= last / hash_block_tokens; ++h) {
      key = chain_hash(key, static_cast<uint64_t>(prefix_hashes[static_cast<std::size_t>(h)]));
    }
    previous = chain_hash(previous, key);
    out.push_back(previous);
  }
}

void extend_private_block_hashes(uint64_t content_key, int64_t blocks, std::vector<uint64_t>& hashes) {
  for (auto b = static_cast<int64_t>(hashes.size()); b < blocks; ++b) {
    const uint64_t previous = hashes.empty() ? 0x5e5e5e5eULL : hashes.back();
    hashes.push_back(chain_hash(previous, content_key + static_cast<uint64_t>(b)));
  }
}

}  // namespace servesim

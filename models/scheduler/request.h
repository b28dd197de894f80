#pragma once
// Contract: one request's state inside a replica: what the workload asked for,
// how far its KV computation and output have progressed, the KV blocks it
// holds, and the timestamps the metrics need. Token bookkeeping: the KV of
// `computed` tokens is in the cache; `input + generated` tokens are known; an
// output token is emitted by the iteration that brings `computed` up to
// `input + generated`. So the prefill computes `input` tokens and emits token 1,
// each decode computes 1 token and emits the next, and a recomputed request
// prefills `input + generated` tokens again. Mutated only by the replica and
// its scheduler (through SchedulerContext). Times in seconds.

#include <cstdint>
#include <vector>

namespace servesim {

// kHandingOff: prefilled on a prefill replica, its KV on the way to a decode
// replica; kReceiving: the same request on the decode replica, KV arriving.
enum class RequestState : uint8_t { kWaiting, kRunning, kSwappingOut, kSwappingIn, kHandingOff, kReceiving, kFinished };

struct Request {
  // What was asked.
  int64_t id = 0;
  double arrival_s = 0.0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t priority = 0;
  std::vector<int64_t> prefix_hashes;
  int64_t hash_block_tokens = 0;

  // Progress.
  RequestState state = RequestState::kWaiting;
  bool swapped = false;       // KV is on the host (resume = swap in)
  int64_t computed = 0;       // tokens whose KV is in the cache
  int64_t generated = 0;      // output tokens emitted
  std::vector<int32_t> blocks;           // KV block table
  std::vector<uint64_t> block_hashes;    // chained content hashes of its full blocks (prompt, then output)
  uint64_t content_key = 0;              // identity of its own content (blocks no trace hash describes)
  int64_t published = 0;                 // leading blocks already published to the prefix cache

  // Metrics.
  double first_scheduled_s = -1.0;
  double first_token_s = -1.0;
  double last_token_s = 0.0;
  double max_itl_s = 0.0;
  int64_t preemptions = 0;
  int64_t prefix_hit_tokens = 0;  // at first admission
  bool in_batch = false;          // scheduled in the iteration being formed / run
  int32_t lane = -1;              // the replica's micro-batch lane serving it (-1 = none yet)

  /// Tokens to compute before the next output token.
  int64_t pending() const { return input_tokens + generated - computed; }
  /// A running sequence that adds one token per iteration.
  bool is_decode() const { return generated > 0 && pending() == 1; }
};

}  // namespace servesim

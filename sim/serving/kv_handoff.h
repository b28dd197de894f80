#pragma once
// Contract: moves prefilled requests from prefill replicas to decode replicas
// (prefill/decode disaggregation). A prefilled request is assigned, at that
// moment and for good, to the decode replica its decode router picks (default
// least-loaded). The router sees the decode replicas through this handoff's
// RouterView: outstanding tokens = the replica's running and waiting requests
// plus the output tokens still due of requests assigned to it and not yet
// received; cached prefix = the request's prompt blocks in that replica's cache.
// It waits in that replica's FIFO until the replica has free KV blocks for its
// prompt (back-pressure: the prefill replica keeps holding the KV meanwhile);
// then its KV (prompt tokens x the prefill replica's KV bytes per token)
// crosses the KV link as one engine transfer from the prefill replica's GPU
// endpoint to the decode replica's. On arrival the prefill replica frees its
// blocks and the decode replica runs the request. A FIFO is retried, in order
// and never past its head, when its replica reaches a scheduling point (the
// handoff is the decode replicas' ArrivalFeed) and when a request is assigned.
// With a timeline, each transfer is a span on its decode replica, in the
// first "kv in" lane free when it started (concurrent transfers, own lanes).

#include <cstdint>
#include <deque>
#include <vector>

#include "models/router/router.h"
#include "sim/core/engine.h"
#include "sim/serving/replica.h"
#include "traces/timeline_writer.h"

namespace servesim {

struct KvHandoffStats {
  int64_t transfers = 0;
  double bytes = 0.0;
  double wait_s = 0.0;      // summed: first token -> transfer start (waiting for decode KV blocks)
  double transfer_s = 0.0;  // summed: transfer start -> KV arrived
  double max_wait_s = 0.0;
};

class KvHandoff final : public PrefillHandoff, public ArrivalFeed, public RouterView {
 public:
  KvHandoff(Engine& engine, std::vector<Replica*> decode, Router& router, TimelineWriter* timeline = nullptr);

  // PrefillHandoff
  void prefilled(Replica& from, Request& request) override;
  // ArrivalFeed of the decode replicas: retries the caller's FIFO.
  void deliver_due(double now, const Replica* caller) override;

  // RouterView (about the request being handed off)
  int replica_count() const override { return static_cast<int>(decode_.size()); }
  int64_t outstanding_tokens(int replica) const override;
  int64_t cached_prefix_tokens(int replica) const override;
  const std::vector<uint64_t>& prompt_block_hashes() const override { return hashes_; }
  int64_t block_tokens() const override { return decode_[0]->cache().block_tokens(); }

  const KvHandoffStats& stats() const { return stats_; }

 private:
  struct Pending {
    Replica* from;
    Request* request;
  };
  /// Starts the transfers at the head of decode replica `d`'s FIFO while its KV blocks allow.
  void start_transfers(std::size_t d);

  /// A free "kv in" lane of decode replica `d` (marked busy), named on first use.
  int take_lane(std::size_t d);

  Engine& engine_;
  std::vector<Replica*> decode_;
  Router& router_;
  TimelineWriter* timeline_;
  std::vector<uint64_t> hashes_;  // prompt blocks a prefix hit may cover, of the request being handed off
  std::vector<std::vector<char>> lane_busy_;  // per decode replica
  std::vector<std::deque<Pending>> pending_;
  std::vector<int64_t> assigned_tokens_;  // output tokens still due of assigned, unreceived requests
  KvHandoffStats stats_;
};

}  // namespace servesim

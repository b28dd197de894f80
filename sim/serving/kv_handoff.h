#pragma once
// Contract: moves prefilled requests from prefill replicas to decode replicas
// (prefill/decode disaggregation). A prefilled request is assigned, at that
// moment and for good, to the decode replica with the fewest outstanding
// tokens (its running and waiting requests plus the output tokens still due
// of requests assigned to it and not yet received; ties: the lowest index).
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

#include "sim/engine.h"
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

class KvHandoff final : public PrefillHandoff, public ArrivalFeed {
 public:
  KvHandoff(Engine& engine, std::vector<Replica*> decode, TimelineWriter* timeline = nullptr);

  // PrefillHandoff
  void prefilled(Replica& from, Request& request) override;
  // ArrivalFeed of the decode replicas: retries the caller's FIFO.
  void deliver_due(double now, const Replica* caller) override;

  const KvHandoffStats& stats() const { return stats_; }
  /// Requests assigned and not yet received (0 after a run).
  int64_t in_flight() const { return in_flight_; }

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
  TimelineWriter* timeline_;
  std::vector<std::vector<char>> lane_busy_;  // per decode replica
  std::vector<std::deque<Pending>> pending_;
  std::vector<int64_t> assigned_tokens_;  // output tokens still due of assigned, unreceived requests
  KvHandoffStats stats_;
  int64_t in_flight_ = 0;
};

}  // namespace servesim

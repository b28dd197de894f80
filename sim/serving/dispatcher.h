#pragma once
// Contract: the front door of data-parallel replicas. It holds the next
// arrival of the one streaming TraceSource and keeps at most one engine event
// pending, at that arrival's time (phase kPhaseArrival). An arrival is routed
// at its arrival time, in trace order: when the event fires, or earlier in the
// same instant when a replica reaches a scheduling point (deliver_due), so a
// request arriving as an iteration ends is seen by that replica's next batch,
// as with one replica reading the trace itself. Routed requests go straight
// into the chosen replica's waiting queue (request ids in arrival order) and
// an idle replica is woken. It is also the router's RouterView: loads and
// cached prefixes are read from the replicas at the moment of routing, so no
// state grows with the trace. Deterministic.

#include <cstdint>
#include <vector>

#include "models/router/router.h"
#include "sim/core/engine.h"
#include "sim/serving/replica.h"
#include "traces/trace_source.h"

namespace servesim {

class Dispatcher final : public ArrivalFeed, public RouterView {
 public:
  Dispatcher(Engine& engine, TraceSource& source, Router& router, std::vector<Replica*> replicas);
  /// Reads the first arrival and schedules its event.
  void start();

  // ArrivalFeed
  void deliver_due(double now, const Replica* caller) override;
  // RouterView (about the request being routed)
  int replica_count() const override { return static_cast<int>(replicas_.size()); }
  int64_t outstanding_tokens(int replica) const override;
  int64_t cached_prefix_tokens(int replica) const override;
  const std::vector<uint64_t>& prompt_block_hashes() const override;
  int64_t block_tokens() const override { return replicas_[0]->cache().block_tokens(); }

 private:
  void on_arrival();
  /// Routes every arrival due by `now`; marks the replicas that received one.
  void route_due(double now);
  void arm();

  Engine& engine_;
  TraceSource& source_;
  Router& router_;
  std::vector<Replica*> replicas_;
  std::vector<char> received_;
  std::vector<Replica*> to_wake_;
  RequestSpec next_;
  bool has_next_ = false;
  bool armed_ = false;
  int64_t next_id_ = 0;
  mutable std::vector<uint64_t> hashes_;  // block hashes of the request being routed
  mutable bool hashes_ready_ = false;
};

}  // namespace servesim

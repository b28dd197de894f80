#include "sim/serving/dispatcher.h"

#include "sim/core/check.h"

namespace servesim {

Dispatcher::Dispatcher(Engine& engine, TraceSource& source, Router& router, std::vector<Replica*> replicas)
    : engine_(engine), source_(source), router_(router), replicas_(std::move(replicas)),
      received_(replicas_.size(), 0) {
  SERVESIM_CHECK(!replicas_.empty(), "a dispatcher needs a replica");
}

void Dispatcher::start() {
  has_next_ = source_.next(next_);
  arm();
}

void Dispatcher::arm() {
  if (!has_next_ || armed_) return;
  armed_ = true;
  engine_.schedule_at(next_.arrival_s, kPhaseArrival, [this] { on_arrival(); });
}

void Dispatcher::route_due(double now) {
  while (has_next_ && next_.arrival_s <= now) {
    RoutedRequest routed;
    routed.id = next_id_;
    routed.arrival_s = next_.arrival_s;
    routed.input_tokens = next_.input_tokens;
    routed.output_tokens = next_.output_tokens;
    routed.priority = next_.priority;
    hashes_ready_ = false;
    const int target = router_.route(routed, *this);
    SERVESIM_CHECK(target >= 0 && target < replica_count(), "the router named a replica that does not exist");
    replicas_[static_cast<std::size_t>(target)]->enqueue(next_, next_id_++);
    received_[static_cast<std::size_t>(target)] = 1;
    has_next_ = source_.next(next_);
  }
}

void Dispatcher::deliver_due(double now, const Replica* caller) {
  route_due(now);
  // The caller is at its scheduling point and takes its own arrivals; others are woken by an event
  // at this instant rather than re-entered from inside the caller's step.
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    if (received_[i] == 0) continue;
    received_[i] = 0;
    if (replicas_[i] != caller) replicas_[i]->wake_soon();
  }
  arm();
}

void Dispatcher::on_arrival() {
  armed_ = false;
  route_due(engine_.now());
  // Clear every mark before waking anyone: a woken replica's step calls deliver_due.
  to_wake_.clear();
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    if (received_[i] == 0) continue;
    received_[i] = 0;
    to_wake_.push_back(replicas_[i]);
  }
  for (Replica* replica : to_wake_) replica->wake_if_idle();
  arm();
}

int64_t Dispatcher::outstanding_tokens(int replica) const {
  return replicas_[static_cast<std::size_t>(replica)]->outstanding_tokens();
}

const std::vector<uint64_t>& Dispatcher::prompt_block_hashes() const {
  if (hashes_ready_) return hashes_;
  hashes_ready_ = true;
  hashes_.clear();
  const KvCache& cache = replicas_[0]->cache();  // replicas are identical
  if (!cache.prefix_caching() || next_.prefix_hashes.empty() || next_.input_tokens < 2) return hashes_;
  const int64_t bt = cache.block_tokens();
  servesim::prompt_block_hashes(next_.prefix_hashes, next_.hash_block_tokens, next_.input_tokens, bt, hashes_);
  // A prefix hit never covers the prompt's last token (it must be computed to emit token 1).
  const std::size_t limit = static_cast<std::size_t>((next_.input_tokens - 1) / bt);
  if (hashes_.size() > limit) hashes_.resize(limit);
  return hashes_;
}

int64_t Dispatcher::cached_prefix_tokens(int replica) const {
  const std::vector<uint64_t>& hashes = prompt_block_hashes();
  if (hashes.empty()) return 0;
  const KvCache& cache = replicas_[static_cast<std::size_t>(replica)]->cache();
  int64_t unreferenced = 0;
  const int64_t count = static_cast<int64_t>(hashes.size());
  return cache.cached_prefix(hashes.data(), count, count, &unreferenced) * cache.block_tokens();
}

}  // namespace servesim

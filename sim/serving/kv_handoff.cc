#include "sim/serving/kv_handoff.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "sim/core/check.h"

namespace servesim {

KvHandoff::KvHandoff(Engine& engine, std::vector<Replica*> decode, Router& router, TimelineWriter* timeline)
    : engine_(engine),
      decode_(std::move(decode)),
      router_(router),
      timeline_(timeline),
      lane_busy_(decode_.size()),
      pending_(decode_.size()),
      assigned_tokens_(decode_.size(), 0) {
  SERVESIM_CHECK(!decode_.empty(), "a KV handoff needs a decode replica");
}

int KvHandoff::take_lane(std::size_t d) {
  std::vector<char>& busy = lane_busy_[d];
  std::size_t lane = 0;
  while (lane < busy.size() && busy[lane]) ++lane;
  if (lane == busy.size()) {
    busy.push_back(0);
    const int index = decode_[d]->index();
    timeline_->name_track(index, static_cast<int>(lane) + 1, "replica " + std::to_string(index),
                          "kv in " + std::to_string(lane));
  }
  busy[lane] = 1;
  return static_cast<int>(lane);
}

int64_t KvHandoff::outstanding_tokens(int replica) const {
  const auto d = static_cast<std::size_t>(replica);
  return decode_[d]->outstanding_tokens() + assigned_tokens_[d];
}

int64_t KvHandoff::cached_prefix_tokens(int replica) const {
  if (hashes_.empty()) return 0;
  const KvCache& cache = decode_[static_cast<std::size_t>(replica)]->cache();
  int64_t unreferenced = 0;
  const auto count = static_cast<int64_t>(hashes_.size());
  return cache.cached_prefix(hashes_.data(), count, count, &unreferenced) * cache.block_tokens();
}

void KvHandoff::prefilled(Replica& from, Request& request) {
  // A prefix hit never covers the prompt's last token, as at arrival (Dispatcher).
  hashes_ = request.block_hashes;
  const auto limit = static_cast<std::size_t>((request.input_tokens - 1) / block_tokens());
  if (hashes_.size() > limit) hashes_.resize(limit);
  const RoutedRequest routed{request.id, request.arrival_s, request.input_tokens, request.output_tokens,
                             request.priority};
  const auto best = static_cast<std::size_t>(router_.route(routed, *this));
  SERVESIM_CHECK(best < decode_.size(), "the decode router named a replica that does not exist");
  assigned_tokens_[best] += request.output_tokens - request.generated;
  pending_[best].push_back(Pending{&from, &request});
  start_transfers(best);
}

void KvHandoff::deliver_due(double, const Replica* caller) {
  const auto it = std::find(decode_.begin(), decode_.end(), caller);
  if (it != decode_.end()) start_transfers(static_cast<std::size_t>(it - decode_.begin()));
}

void KvHandoff::start_transfers(std::size_t d) {
  Replica& to = *decode_[d];
  std::deque<Pending>& queue = pending_[d];
  while (!queue.empty()) {
    const Pending head = queue.front();
    Request* incoming = to.reserve_incoming(*head.request);
    if (incoming == nullptr) return;  // no room yet: retried at the replica's next scheduling point
    queue.pop_front();
    const double now = engine_.now();
    const double wait = now - head.request->last_token_s;
    const double bytes = static_cast<double>(head.request->computed) * head.from->kv_bytes_per_token();
    ++stats_.transfers;
    stats_.bytes += bytes;
    stats_.wait_s += wait;
    stats_.max_wait_s = std::max(stats_.max_wait_s, wait);
    const int64_t due = head.request->output_tokens - head.request->generated;
    const int lane = timeline_ != nullptr ? take_lane(d) : -1;
    // Each GPU of the prefill replica sends its share of the KV to the decode GPU of the same
    // rank position (k = the larger GPU count; one transfer without a cluster); the handoff ends
    // with the last share.
    const std::vector<EndpointId> from_gpus = head.from->gpu_endpoints(), to_gpus = to.gpu_endpoints();
    const std::size_t shares = std::max(from_gpus.size(), to_gpus.size());
    auto left = std::make_shared<std::size_t>(shares);
    auto done = [this, head, incoming, &to, d, due, now, lane, bytes, left] {
      if (--*left > 0) return;
      stats_.transfer_s += engine_.now() - now;
      if (lane >= 0) {
        lane_busy_[d][static_cast<std::size_t>(lane)] = 0;
        timeline_->span(to.index(), lane + 1, "kv transfer", now, engine_.now() - now,
                        {{"request", head.request->id},
                         {"from_replica", head.from->index()},
                         {"bytes", static_cast<int64_t>(bytes)}});
      }
      assigned_tokens_[d] -= due;
      head.from->release_handed_off(*head.request);
      to.receive(*incoming);
    };
    for (std::size_t k = 0; k < shares; ++k) {
      engine_.transfer(from_gpus[k * from_gpus.size() / shares], to_gpus[k * to_gpus.size() / shares],
                       shares == 1 ? bytes : bytes / static_cast<double>(shares), done);
    }
  }
}

}  // namespace servesim

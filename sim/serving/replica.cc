#include "sim/serving/replica.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <memory>
#include <utility>

#include "sim/core/config_error.h"

namespace servesim {

Replica::Replica(Engine& engine, ExecutionModel& model, Scheduler& scheduler, KvCache& cache, TraceSource& source,
                 Metrics& metrics, const ReplicaParams& params, TimelineWriter* timeline)
    : engine_(engine), model_(model), scheduler_(scheduler), cache_(cache), source_(source), metrics_(metrics),
      params_(params), timeline_(timeline),
      lanes_(static_cast<std::size_t>(std::max<int64_t>(1, params.micro_batches))),
      idle_lanes_(lanes_.size()), pipeline_(std::max<int64_t>(1, params.pipeline_stages)) {
  max_kv_tokens_ = cache_.total_blocks() * cache_.block_tokens();
  shape_.segments.reserve(64);
  current_ = &lanes_.front();
  if (timeline_ != nullptr) {
    const std::string name = "replica " + std::to_string(params_.index);
    if (pipeline_.stages() == 1) {
      timeline_->name_track(params_.index, 0, name, "iterations");
    } else {
      for (int64_t k = 0; k < pipeline_.stages(); ++k) {
        timeline_->name_track(params_.index, static_cast<int>(k), name, "stage " + std::to_string(k));
      }
    }
  }
  if (params_.offload_capacity_blocks > 0 && cache_.prefix_caching()) {
    tier_ = std::make_unique<KvOffloadTier>(params_.offload_capacity_blocks);
    cache_.set_eviction_log(&evicted_);
  }
}

void Replica::start() {
  if (feed_ != nullptr) return;
  has_next_ = source_.next(next_);
  if (has_next_) {
    wake_at_ = next_.arrival_s;
    engine_.schedule_at(next_.arrival_s, kPhaseArrival, [this] { wake(); });
  }
}

void Replica::wake() {
  wake_at_ = -1.0;
  if (can_step()) step();
}

void Replica::wake_soon() {
  if (!can_step() || wake_at_ >= 0.0) return;
  wake_at_ = engine_.now();
  engine_.schedule_at(wake_at_, kPhaseArrival, [this] { wake(); });
}

int64_t Replica::outstanding_tokens() const {
  int64_t tokens = 0;
  auto add = [&](const Request* r) {
    tokens += std::max<int64_t>(0, r->input_tokens - r->computed) + (r->output_tokens - r->generated);
  };
  for (const Lane& lane : lanes_) {
    for (const Request* r : lane.running) add(r);
    for (const Request* r : lane.waiting) add(r);
  }
  return tokens;
}

Request* Replica::new_request() {
  if (free_.empty()) {
    pool_.push_back(std::make_unique<Request>());
    return pool_.back().get();
  }
  Request* request = free_.back();
  free_.pop_back();
  return request;
}

Replica::Lane& Replica::assign_lane(Request& request) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < lanes_.size(); ++i) {
    if (lanes_[i].unfinished < lanes_[best].unfinished) best = i;
  }
  request.lane = static_cast<int32_t>(best);
  ++lanes_[best].unfinished;
  return lanes_[best];
}

void Replica::recycle(Request* request) {
  if (blocked_ == request) blocked_ = nullptr;
  if (request->lane >= 0) --lanes_[static_cast<std::size_t>(request->lane)].unfinished;
  request->lane = -1;
  request->blocks.clear();
  request->block_hashes.clear();
  request->prefix_hashes.clear();
  free_.push_back(request);
  --in_flight_;
}

void Replica::accept(RequestSpec& spec, int64_t id) {
  Request* r = new_request();
  ++in_flight_;
  ++stats_.arrived;
  r->id = id;
  // The content of blocks no trace hash describes: the conversation's (a session's turns share
  // their leading blocks), else the request's own.
  r->content_key = spec.session != 0 ? chain_hash(0x73657373696f6eULL, spec.session)
                                     : chain_hash(0x636f6e74656e74ULL, static_cast<uint64_t>(id));
  r->arrival_s = spec.arrival_s;
  r->input_tokens = spec.input_tokens;
  r->output_tokens = spec.output_tokens;
  r->priority = spec.priority;
  r->prefix_hashes.swap(spec.prefix_hashes);
  r->hash_block_tokens = spec.hash_block_tokens;
  r->state = RequestState::kWaiting;
  r->swapped = false;
  r->computed = r->generated = r->published = 0;
  r->first_scheduled_s = r->first_token_s = -1.0;
  r->last_token_s = 0.0;
  r->max_itl_s = 0.0;
  r->preemptions = 0;
  r->prefix_hit_tokens = 0;
  r->in_batch = false;
  r->lane = -1;

  // The most KV a request ever holds: all but its last output token (a prefill
  // replica holds the prompt only; its decode replica the rest).
  std::string reason;
  const int64_t full_kv_tokens = r->input_tokens + r->output_tokens - 1;
  const int64_t kv_tokens = params_.role == ReplicaRole::kPrefill ? r->input_tokens : full_kv_tokens;
  if (r->input_tokens < 1 || r->output_tokens < 1) {
    reason = "needs at least 1 input and 1 output token (has " + std::to_string(r->input_tokens) + " and " +
             std::to_string(r->output_tokens) + ")";
  } else if (params_.max_context_tokens > 0 && r->input_tokens + r->output_tokens > params_.max_context_tokens) {
    reason = std::to_string(r->input_tokens) + " input + " + std::to_string(r->output_tokens) +
             " output tokens exceed the model's context of " + std::to_string(params_.max_context_tokens) + " tokens";
  } else if (kv_tokens > max_kv_tokens_) {
    reason = "needs KV for " + std::to_string(kv_tokens) + " tokens but the replica's KV cache holds " +
             std::to_string(max_kv_tokens_) + " tokens";
  } else if (params_.downstream_kv_tokens > 0 && full_kv_tokens > params_.downstream_kv_tokens) {
    reason = "needs KV for " + std::to_string(full_kv_tokens) + " tokens but a decode replica's KV cache holds " +
             std::to_string(params_.downstream_kv_tokens) + " tokens";
  }
  if (!reason.empty()) {
    if (params_.oversize_is_error) {
      if (spec.line > 0) throw ConfigError::at_line(source_.origin(), spec.line, "request " + reason);
      throw ConfigError::at(source_.origin(), "request " + std::to_string(r->id) + " " + reason);
    }
    r->state = RequestState::kFinished;
    ++stats_.rejected;
    metrics_.rejected(*r, reason, feed_ != nullptr ? params_.index : -1);
    recycle(r);
    return;
  }
  assign_lane(*r).waiting.push_back(r);
}

void Replica::release_handed_off(Request& request) {
  cache_.release(request.blocks);
  ++stats_.handed_off;
  recycle(&request);
  if (can_step()) step();
}

Request* Replica::reserve_incoming(const Request& from) {
  std::vector<int32_t> blocks;
  if (!cache_.grow(blocks, from.computed)) return nullptr;
  Request* r = new_request();
  *r = from;  // what was asked, the progress so far and the metrics taken until now
  r->blocks = std::move(blocks);
  if (!cache_.prefix_caching()) r->block_hashes.clear();
  r->state = RequestState::kReceiving;
  r->published = 0;
  r->in_batch = false;
  r->lane = -1;
  assign_lane(*r);
  ++in_flight_;
  ++stats_.received;
  return r;
}

void Replica::receive(Request& request) {
  request.state = RequestState::kRunning;
  publish_full_blocks(request);
  lanes_[static_cast<std::size_t>(request.lane)].running.push_back(&request);
  if (can_step()) step();
}

void Replica::pull_arrivals() {
  const double now = engine_.now();
  if (feed_ != nullptr) feed_->deliver_due(now, this);
  while (has_next_ && next_.arrival_s <= now) {
    accept(next_, next_id_++);
    has_next_ = source_.next(next_);
  }
}

bool Replica::reserve(Request& request, int64_t new_tokens) {
  return cache_.grow(request.blocks, request.computed + new_tokens);
}

int64_t Replica::admit(std::size_t index, const Admission& admission) {
  const int64_t max_new_tokens = admission.max_new_tokens;
  const bool chunking = admission.chunking;
  Lane& lane = *current_;
  Request& r = *lane.waiting[index];
  const int64_t bt = cache_.block_tokens();
  auto leave_waiting = [&] {
    if (index == 0) {
      lane.waiting.pop_front();
    } else {
      lane.waiting.erase(lane.waiting.begin() + static_cast<std::ptrdiff_t>(index));
    }
  };

  // Swapping engines (vLLM V0) admit only while a watermark of 1 % of the blocks stays free, so an
  // admission does not force the next step to preempt; a scheduler may ask for its own (Sarathi-Serve).
  const int64_t swap_watermark = cache_.preemption() == PreemptionMode::kSwap ? cache_.total_blocks() / 100 : 0;
  const auto scheduler_watermark =
      static_cast<int64_t>(admission.watermark * static_cast<double>(cache_.total_blocks()));
  const int64_t watermark = std::max(swap_watermark, scheduler_watermark);
  if (r.swapped) {  // resume: bring the KV back over H2D
    const int64_t needed = (r.computed + bt - 1) / bt - static_cast<int64_t>(r.blocks.size());
    if (needed > cache_.free_blocks() - watermark || !cache_.grow(r.blocks, r.computed)) return -1;
    leave_waiting();
    r.state = RequestState::kSwappingIn;
    const double bytes = static_cast<double>(r.computed) * params_.kv_bytes_per_token;
    stats_.swap_in_bytes += bytes;
    Request* request = &r;
    ++lane.swaps_this_step;
    to_gpus(params_.host, bytes, [this, request, bytes, serial = step_serial_] {
      host_used_bytes_ -= bytes;
      request->swapped = false;
      request->published = 0;
      publish_full_blocks(*request);
      request->state = RequestState::kRunning;
      const auto lane_index = static_cast<std::size_t>(request->lane);
      lanes_[lane_index].running.push_back(request);
      swap_done(lane_index, serial);
    });
    return 0;
  }

  const bool first_time = r.first_scheduled_s < 0.0;
  const int64_t total = r.input_tokens + r.generated;
  if (cache_.prefix_caching()) block_hashes_for(r, total / bt);
  const int64_t hash_count = static_cast<int64_t>(r.block_hashes.size());
  // A request that did not fit is retried every iteration; while nothing it depends on changed
  // (no block freed, no hash published or evicted, budget not larger) the answer is still no.
  if (&r == blocked_ && cache_.free_blocks() <= blocked_free_ && cache_.generation() == blocked_generation_ &&
      max_new_tokens <= blocked_max_new_ && offload_generation_ == blocked_offload_generation_) {
    return -1;
  }
  // Cheap bound first: even if every hashed block hit, would the rest fit in the free blocks?
  {
    const int64_t best_hits = std::min(hash_count, (total - 1) / bt);
    const int64_t best_pending = total - best_hits * bt;
    const int64_t best_tokens =
        chunking && !admission.whole_prompt ? std::min(best_pending, max_new_tokens) : best_pending;
    if ((best_hits * bt + best_tokens + bt - 1) / bt - best_hits > cache_.free_blocks()) return -1;
  }
  // Dry run next: failing admissions must not churn the cache.
  int64_t unreferenced = 0;
  const int64_t max_hits = (total - 1) / bt;
  const int64_t hits = cache_.cached_prefix(r.block_hashes.data(), hash_count, max_hits, &unreferenced);
  // Blocks right after the GPU hits that the offload tier holds are loaded rather than recomputed.
  const int64_t loaded =
      tier_ != nullptr && hits < hash_count ? tier_->prefix_length(r.block_hashes.data() + hits, hash_count - hits,
                                                                   max_hits - hits)
                                            : 0;
  const int64_t known = hits + loaded;
  const int64_t pending = total - known * bt;
  const int64_t tokens = chunking ? std::min(pending, max_new_tokens) : pending;
  // KV allocated now: the first prefill chunk after the load, or the whole prompt.
  const int64_t allocated_tokens = admission.whole_prompt ? pending : tokens;
  const int64_t new_blocks = (known * bt + allocated_tokens + bt - 1) / bt - hits;
  if ((!chunking && pending > max_new_tokens && !admission.alone) ||
      new_blocks + unreferenced > cache_.free_blocks() - watermark) {
    blocked_ = &r;
    blocked_free_ = cache_.free_blocks();
    blocked_generation_ = cache_.generation();
    blocked_max_new_ = max_new_tokens;
    blocked_offload_generation_ = offload_generation_;
    return -1;
  }
  blocked_ = nullptr;
  const int64_t hit_blocks = cache_.acquire_prefix(r.block_hashes.data(), hash_count, hits, r.blocks);
  if (loaded > 0) {
    const bool allocated = cache_.grow(r.blocks, admission.whole_prompt ? total : known * bt);
    assert(hit_blocks == hits && allocated);
    (void)allocated;
    r.computed = known * bt;
    cache_.record_lookup(total, r.computed);
    if (first_time) {
      r.first_scheduled_s = engine_.now();
      r.prefix_hit_tokens = r.computed;
    }
    r.published = hit_blocks;
    leave_waiting();
    load_offloaded(r, loaded);
    return 0;
  }
  r.computed = hit_blocks * bt;
  const bool grown = cache_.grow(r.blocks, r.computed + allocated_tokens);
  assert(hit_blocks == hits && grown);
  (void)grown;
  if (cache_.prefix_caching()) cache_.record_lookup(total, r.computed);
  if (first_time) {
    r.first_scheduled_s = engine_.now();
    r.prefix_hit_tokens = r.computed;
  }
  r.published = hit_blocks;
  leave_waiting();
  r.state = RequestState::kRunning;
  lane.running.push_back(&r);
  return tokens;
}

void Replica::preempt(Request& r) {
  Lane& lane = lanes_[static_cast<std::size_t>(r.lane)];
  auto it = std::find(lane.running.begin(), lane.running.end(), &r);
  assert(it != lane.running.end());
  lane.running.erase(it);
  ++r.preemptions;
  ++stats_.preemptions;
  const double bytes = static_cast<double>(r.computed) * params_.kv_bytes_per_token;
  if (cache_.preemption() == PreemptionMode::kSwap && r.computed > 0 &&
      host_used_bytes_ + bytes <= params_.host_memory_bytes) {
    cache_.release(r.blocks);
    host_used_bytes_ += bytes;
    stats_.swap_out_bytes += bytes;
    ++stats_.swap_outs;
    r.state = RequestState::kSwappingOut;
    Request* request = &r;
    ++lane.swaps_this_step;
    from_gpus(params_.host, bytes, [this, request, serial = step_serial_] {
      request->state = RequestState::kWaiting;
      request->swapped = true;
      const auto lane_index = static_cast<std::size_t>(request->lane);
      lanes_[lane_index].waiting.push_front(request);
      swap_done(lane_index, serial);
    });
    return;
  }
  // Recompute: drop the KV; prompt and generated tokens are prefilled again (cached blocks may survive).
  cache_.release(r.blocks);
  r.computed = 0;
  r.published = 0;
  r.state = RequestState::kWaiting;
  lane.waiting.push_front(&r);
}

void Replica::load_offloaded(Request& r, int64_t blocks) {
  const int64_t bt = cache_.block_tokens();
  const int64_t first = r.computed / bt - blocks;
  tier_->touch(r.block_hashes.data() + first, blocks);
  const double bytes = static_cast<double>(blocks * bt) * params_.kv_bytes_per_token;
  stats_.offload_hit_tokens += blocks * bt;
  stats_.offload_load_bytes += bytes;
  ++stats_.offload_loads;
  r.state = RequestState::kSwappingIn;
  Request* request = &r;
  auto loaded = [this, request] {
    publish_full_blocks(*request);
    request->state = RequestState::kRunning;
    lanes_[static_cast<std::size_t>(request->lane)].running.push_back(request);
    if (can_step()) step();
  };
  if (params_.offload_tier == OffloadTierKind::kSsd) {
    engine_.disk_io(params_.offload_disk, bytes, DiskOp::kRead, [this, bytes, loaded] {
      to_gpus(params_.host, bytes, loaded);
    });
  } else {
    to_gpus(params_.offload_endpoint, bytes, loaded);
  }
}

void Replica::store_evicted() {
  // A block the tier already holds is only refreshed; the rest join the store backlog.
  for (uint64_t hash : evicted_) {
    if (tier_->contains(hash)) {
      tier_->insert(hash);
    } else {
      store_backlog_.push_back(hash);
    }
  }
  evicted_.clear();
  if (!storing_) start_store();
}

void Replica::start_store() {
  if (store_backlog_.empty()) return;
  // Blocks beyond the tier's capacity would be dropped by the newer ones anyway: never written.
  const auto capacity = static_cast<std::size_t>(tier_->capacity_blocks());
  if (store_backlog_.size() > capacity) {
    store_backlog_.erase(store_backlog_.begin(),
                         store_backlog_.end() - static_cast<std::ptrdiff_t>(capacity));
  }
  const double bytes = static_cast<double>(static_cast<int64_t>(store_backlog_.size()) * cache_.block_tokens()) *
                       params_.kv_bytes_per_token;
  stats_.offload_store_bytes += bytes;
  storing_ = true;
  auto stored = [this, hashes = std::move(store_backlog_)] {
    for (uint64_t hash : hashes) tier_->insert(hash);
    ++offload_generation_;
    storing_ = false;
    start_store();
  };
  store_backlog_.clear();
  if (params_.offload_tier == OffloadTierKind::kSsd) {
    from_gpus(params_.host, bytes, [this, bytes, stored] {
      engine_.disk_io(params_.offload_disk, bytes, DiskOp::kWrite, stored);
    });
  } else {
    from_gpus(params_.offload_endpoint, bytes, stored);
  }
}

void Replica::move_kv(EndpointId other, bool to_gpus, double bytes, std::function<void()> done) {
  // On a cluster each GPU holds its share of the KV and moves it over its own host link, in parallel.
  const std::vector<EndpointId> gpus = gpu_endpoints();
  auto left = std::make_shared<std::size_t>(gpus.size());
  auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
  const double share = bytes / static_cast<double>(gpus.size());
  for (EndpointId gpu : gpus) {
    engine_.transfer(to_gpus ? other : gpu, to_gpus ? gpu : other, share, [left, shared_done] {
      if (--*left == 0) (*shared_done)();
    });
  }
}

void Replica::to_gpus(EndpointId from, double bytes, std::function<void()> done) {
  move_kv(from, true, bytes, std::move(done));
}

void Replica::from_gpus(EndpointId to, double bytes, std::function<void()> done) {
  move_kv(to, false, bytes, std::move(done));
}

void Replica::block_hashes_for(Request& r, int64_t blocks) {
  if (static_cast<int64_t>(r.block_hashes.size()) >= blocks) return;
  // The trace's hashes describe the prompt's shared content; every other block is the request's own.
  if (r.block_hashes.empty() && !r.prefix_hashes.empty()) {
    prompt_block_hashes(r.prefix_hashes, r.hash_block_tokens, r.input_tokens, cache_.block_tokens(), r.block_hashes);
  }
  extend_private_block_hashes(r.content_key, blocks, r.block_hashes);
}

void Replica::publish_full_blocks(Request& r) {
  if (!cache_.prefix_caching()) return;
  const int64_t full = r.computed / cache_.block_tokens();
  if (full <= r.published) return;
  block_hashes_for(r, full);
  for (int64_t b = r.published; b < full; ++b) {
    cache_.publish(r.blocks[static_cast<std::size_t>(b)], r.block_hashes[static_cast<std::size_t>(b)]);
  }
  if (full > r.published) r.published = full;
}

void Replica::sample_kv() {
  const double now = engine_.now();
  stats_.kv_used_integral += kv_last_fraction_ * (now - kv_last_t_);
  kv_last_t_ = now;
  const double fraction = cache_.total_blocks() > 0
                              ? static_cast<double>(cache_.used_blocks()) / static_cast<double>(cache_.total_blocks())
                              : 0.0;
  kv_last_fraction_ = fraction;
  stats_.kv_peak_fraction = std::max(stats_.kv_peak_fraction, fraction);
  const double interval = params_.kv_sample_interval_s;
  if (interval > 0.0 && now >= next_sample_s_) {
    // Every grid point passed since the last step gets the value now. More than two in one step
    // (an idle gap, or an interval shorter than an iteration) are written as the first and the last,
    // so the rows are bounded by the scheduling steps, not by the simulated time.
    const double passed = std::floor((now - next_sample_s_) / interval);
    if (passed >= 2.0) {
      kv_samples_.emplace_back(next_sample_s_, fraction);
      next_sample_s_ += passed * interval;
    }
    while (now >= next_sample_s_) {
      kv_samples_.emplace_back(next_sample_s_, fraction);
      next_sample_s_ += interval;
    }
  }
}

void Replica::swap_done(std::size_t lane_index, uint64_t serial) {
  // Only the swaps of the step whose iteration waits for them are counted down.
  Lane& lane = lanes_[lane_index];
  if (serial == lane.step_serial && lane.swaps_blocking > 0) {
    if (--lane.swaps_blocking == 0) begin_iteration(lane_index);
    return;
  }
  if (can_step()) step();
}

void Replica::step() {
  pull_arrivals();
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    if (!lanes_[i].busy) form_batch(i);
  }
  sample_kv();
  int64_t running = 0, waiting = 0;
  for (const Lane& lane : lanes_) {
    running += static_cast<int64_t>(lane.running.size());
    waiting += static_cast<int64_t>(lane.waiting.size());
  }
  stats_.peak_running = std::max(stats_.peak_running, running);
  stats_.peak_waiting = std::max(stats_.peak_waiting, waiting);
  // An idle lane waits for the next arrival (or a swap completion, which calls step itself).
  if (idle_lanes_ > 0 && has_next_ && wake_at_ < 0.0) {
    wake_at_ = next_.arrival_s;
    engine_.schedule_at(next_.arrival_s, kPhaseArrival, [this] { wake(); });
  }
}

void Replica::form_batch(std::size_t lane_index) {
  Lane& lane = lanes_[lane_index];
  current_ = &lane;
  lane.batch.clear();
  lane.step_serial = ++step_serial_;
  lane.swaps_this_step = 0;
  scheduler_.schedule(*this, lane.batch);
  if (!evicted_.empty()) store_evicted();
  if (lane.batch.requests.empty()) return;
  // Shape: one segment per prefill chunk, one aggregated decode segment.
  shape_.segments.clear();
  int64_t decodes = 0, decode_context = 0, prefill_tokens = 0;
  for (std::size_t i = 0; i < lane.batch.requests.size(); ++i) {
    const Request& r = *lane.batch.requests[i];
    if (r.is_decode()) {
      ++decodes;
      decode_context += r.computed;
    } else {
      shape_.segments.push_back(Segment{1, lane.batch.new_tokens[i], r.computed});
      prefill_tokens += lane.batch.new_tokens[i];
    }
  }
  if (decodes > 0) {
    const int64_t mean_context = (decode_context + decodes / 2) / decodes;
    shape_.segments.push_back(Segment{decodes, 1, mean_context});
  }
  const bool pipelined = pipeline_.stages() > 1;
  const IterationTiming timing = pipelined ? model_.stage_timing(shape_, lane.stages) : model_.timing(shape_);
  metrics_.iteration(timing.energy_j, timing.iteration_s, timing.clock_fraction);
  if (timeline_ != nullptr) {
    // Counter tracks beside the iteration slices: what the replica holds when it forms the batch, and the
    // mean power of its GPUs over the iteration.
    const double now = engine_.now();
    int64_t waiting = 0;
    for (const Lane& l : lanes_) waiting += static_cast<int64_t>(l.waiting.size());
    timeline_->counter(params_.index, "kv_blocks_used", now, static_cast<double>(cache_.used_blocks()));
    timeline_->counter(params_.index, "running", now, static_cast<double>(lane.batch.requests.size()));
    timeline_->counter(params_.index, "waiting", now, static_cast<double>(waiting));
    if (timing.iteration_s > 0.0) timeline_->counter(params_.index, "power_w", now, timing.energy_j / timing.iteration_s);
  }
  if (params_.collectives_on_links != nullptr) {
    // Each stage's collectives, run on its GPUs' links; busy_s is added as they ran.
    const std::size_t stages = static_cast<std::size_t>(pipeline_.stages());
    lane.calls.resize(stages);
    lane.compute_s.resize(stages);
    for (std::size_t k = 0; k < stages; ++k) {
      std::vector<CollectiveCall>& calls = lane.calls[k];
      model_.communication(shape_, k, calls);
      double priced_s = 0.0;
      for (const CollectiveCall& call : calls) priced_s += call.seconds;
      // Collectives of the same kind, size and group (the attention and MLP all-reduces of every
      // layer) run as one lumped collective: fewer flows, the same time on idle links.
      std::size_t kept = 0;
      for (std::size_t c = 0; c < calls.size(); ++c) {
        const CollectiveCall& call = calls[c];
        if (kept > 0 && calls[kept - 1].collective == call.collective && calls[kept - 1].bytes == call.bytes &&
            calls[kept - 1].ranks == call.ranks && calls[kept - 1].nodes == call.nodes) {
          calls[kept - 1].count += call.count;
          calls[kept - 1].seconds += call.seconds;
        } else {
          calls[kept++] = call;
        }
      }
      calls.resize(kept);
      const double stage_s = pipelined ? lane.stages.stage_s[k] : timing.iteration_s;
      lane.compute_s[k] = std::max(0.0, stage_s - priced_s);
    }
  } else if (pipelined) {
    // Busy time per GPU of the replica: each stage's GPUs compute for their own stage only.
    double stage_sum = 0.0;
    for (double t : lane.stages.stage_s) stage_sum += t;
    stats_.busy_s += stage_sum / static_cast<double>(pipeline_.stages());
  } else {
    stats_.busy_s += timing.iteration_s;
  }
  lane.busy = true;
  --idle_lanes_;
  lane.iteration_s = timing.iteration_s;
  lane.decodes = decodes;
  lane.prefill_tokens = prefill_tokens;
  // Cache copies (swaps) started by this scheduling step run before the forward pass.
  lane.swaps_blocking = lane.swaps_this_step;
  if (lane.swaps_blocking == 0) begin_iteration(lane_index);
}

void Replica::begin_iteration(std::size_t lane_index) {
  Lane& lane = lanes_[lane_index];
  const double now = engine_.now();
  const bool pipelined = pipeline_.stages() > 1;
  if (params_.collectives_on_links != nullptr && !pipelined) {
    lane.begin_s = now;
    engine_.schedule_at(now + lane.compute_s[0], kPhaseDefault, [this, lane_index] {
      run_collectives(lane_index, 0, 0, [this, lane_index] { end_linked_iteration(lane_index); });
    });
    return;
  }
  if (params_.collectives_on_links != nullptr) {
    // Stages compute, then run their collectives on their GPUs' links, and send to the next stage over
    // the links: the passage is known when the last stage is done.
    pipeline_.submit_linked(
        engine_, now, lane.stages,
        [this](std::size_t boundary, double bytes, std::function<void()> landed) {
          send_activations(boundary, bytes, std::move(landed));
        },
        [this, lane_index](std::size_t stage, std::function<void()> done) { run_stage(lane_index, stage, std::move(done)); },
        [this, lane_index](const std::vector<double>& starts, double end) {
          stage_starts_ = starts;
          record_and_finish(lane_index, engine_.now(), end);
        });
    return;
  }
  const double end = pipelined ? pipeline_.submit(now, lane.stages, stage_starts_) : now + lane.iteration_s;
  record_and_finish(lane_index, now, end);
}

void Replica::send_activations(std::size_t boundary, double bytes, std::function<void()> landed) {
  // From the first GPU of stage `boundary` to the first of the next stage (the bytes the execution model prices).
  const std::vector<EndpointId> gpus = gpu_endpoints();
  const std::size_t per_stage = gpus.size() / static_cast<std::size_t>(pipeline_.stages());
  params_.collectives_on_links->start(engine_, Collective::kSendRecv,
                                      {gpus[boundary * per_stage], gpus[(boundary + 1) * per_stage]}, 1, bytes, 1,
                                      std::move(landed));
}

void Replica::record_and_finish(std::size_t lane_index, double now, double end) {
  Lane& lane = lanes_[lane_index];
  const int64_t decodes = lane.decodes;
  const int64_t prefill_tokens = lane.prefill_tokens;
  const bool pipelined = pipeline_.stages() > 1;
  if (timeline_ != nullptr) {
    const char* kind = decodes > 0 && prefill_tokens > 0 ? "mixed" : decodes > 0 ? "decode" : "prefill";
    const int64_t prefill_seqs = static_cast<int64_t>(lane.batch.requests.size()) - decodes;
    const int64_t waiting = static_cast<int64_t>(lane.waiting.size());
    if (!pipelined) {
      timeline_->span(params_.index, 0, kind, now, lane.iteration_s,
                      {{"prefill_seqs", prefill_seqs},
                       {"prefill_tokens", prefill_tokens},
                       {"decode_seqs", decodes},
                       {"kv_blocks_used", cache_.used_blocks()},
                       {"waiting", waiting}});
    } else {
      for (std::size_t k = 0; k < stage_starts_.size(); ++k) {
        timeline_->span(params_.index, static_cast<int>(k), kind, stage_starts_[k], lane.stages.stage_s[k],
                        {{"micro_batch", static_cast<int64_t>(lane_index)},
                         {"prefill_seqs", prefill_seqs},
                         {"prefill_tokens", prefill_tokens},
                         {"decode_seqs", decodes},
                         {"kv_blocks_used", cache_.used_blocks()},
                         {"waiting", waiting}});
      }
    }
  }
  engine_.schedule_at(end, kPhaseIterationEnd, [this, lane_index] { finish_iteration(lane_index); });
}

void Replica::end_linked_iteration(std::size_t lane_index) {
  Lane& lane = lanes_[lane_index];
  const double now = engine_.now();
  const double took = now - lane.begin_s;
  stats_.busy_s += took;
  if (timeline_ != nullptr) {
    const int64_t decodes = lane.decodes;
    const char* kind = decodes > 0 && lane.prefill_tokens > 0 ? "mixed" : decodes > 0 ? "decode" : "prefill";
    timeline_->span(params_.index, 0, kind, lane.begin_s, took,
                    {{"prefill_seqs", static_cast<int64_t>(lane.batch.requests.size()) - decodes},
                     {"prefill_tokens", lane.prefill_tokens},
                     {"decode_seqs", decodes},
                     {"kv_blocks_used", cache_.used_blocks()},
                     {"waiting", static_cast<int64_t>(lane.waiting.size())}});
  }
  engine_.schedule_at(now, kPhaseIterationEnd, [this, lane_index] { finish_iteration(lane_index); });
}

void Replica::run_stage(std::size_t lane_index, std::size_t stage, std::function<void()> done) {
  const double start = engine_.now();
  engine_.schedule_at(start + lanes_[lane_index].compute_s[stage], kPhaseDefault,
                      [this, lane_index, stage, start, done = std::move(done)]() mutable {
                        run_collectives(lane_index, stage, 0, [this, lane_index, stage, start, done = std::move(done)] {
                          // As the stage ran: its GPUs' busy time and its span on the timeline.
                          const double took = engine_.now() - start;
                          lanes_[lane_index].stages.stage_s[stage] = took;
                          stats_.busy_s += took / static_cast<double>(pipeline_.stages());
                          done();
                        });
                      });
}

void Replica::run_collectives(std::size_t lane_index, std::size_t stage, std::size_t k, std::function<void()> done) {
  Lane& lane = lanes_[lane_index];
  const std::vector<CollectiveCall>& calls = lane.calls[stage];
  if (k == calls.size()) {
    done();
    return;
  }
  const CollectiveCall& call = calls[k];
  const std::vector<EndpointId> all = gpu_endpoints();
  const std::size_t per_stage = all.size() / static_cast<std::size_t>(pipeline_.stages());
  const auto first = all.begin() + static_cast<std::ptrdiff_t>(stage * per_stage);
  // All-reduces run in each tensor-parallel group of the stage at once; an all-to-all spans the stage.
  const std::size_t group = call.collective == Collective::kAllReduce ? static_cast<std::size_t>(params_.tp) : per_stage;
  const std::size_t groups = std::max<std::size_t>(1, per_stage / std::max<std::size_t>(1, group));
  auto left = std::make_shared<std::size_t>(groups);
  auto then = std::make_shared<std::function<void()>>(std::move(done));
  for (std::size_t g = 0; g < groups; ++g) {
    const std::vector<EndpointId> ranks(first + static_cast<std::ptrdiff_t>(g * group),
                                        first + static_cast<std::ptrdiff_t>(std::min(per_stage, (g + 1) * group)));
    params_.collectives_on_links->start(engine_, call.collective, ranks, call.nodes, call.bytes, call.count,
                                        [this, lane_index, stage, k, left, then] {
                                          if (--*left == 0) run_collectives(lane_index, stage, k + 1, std::move(*then));
                                        });
  }
}

void Replica::finish_iteration(std::size_t lane_index) {
  Lane& lane = lanes_[lane_index];
  const double now = engine_.now();
  bool any_finished = false;
  for (std::size_t i = 0; i < lane.batch.requests.size(); ++i) {
    Request& r = *lane.batch.requests[i];
    r.in_batch = false;
    r.computed += lane.batch.new_tokens[i];
    publish_full_blocks(r);
    if (r.computed != r.input_tokens + r.generated) continue;  // more prefill chunks to go
    ++r.generated;
    if (r.generated == 1) {
      r.first_token_s = now;
    } else {
      const double itl = now - r.last_token_s;
      metrics_.token_gap(itl);
      if (itl > r.max_itl_s) r.max_itl_s = itl;
    }
    r.last_token_s = now;
    if (params_.role == ReplicaRole::kPrefill && r.generated == 1 && r.output_tokens > 1) {
      r.state = RequestState::kHandingOff;  // decoded elsewhere: leaves the running set below
      any_finished = true;
      continue;
    }
    if (r.generated == r.output_tokens) {
      r.state = RequestState::kFinished;
      cache_.release(r.blocks);
      metrics_.finished(r, now, feed_ != nullptr ? params_.index : -1);
      ++stats_.finished;
      stats_.output_tokens += r.output_tokens;
      stats_.last_finish_s = now;
      any_finished = true;
    }
  }
  if (any_finished) {
    std::size_t kept = 0;
    handed_off_.clear();
    for (Request* r : lane.running) {
      if (r->state == RequestState::kFinished) {
        recycle(r);
      } else if (r->state == RequestState::kHandingOff) {
        handed_off_.push_back(r);
      } else {
        lane.running[kept++] = r;
      }
    }
    lane.running.resize(kept);
    // Handed off once the running set is consistent (no step starts inside).
    assert(handed_off_.empty() || handoff_ != nullptr);
    finishing_ = true;
    for (Request* r : handed_off_) handoff_->prefilled(*this, *r);
    finishing_ = false;
  }
  lane.busy = false;
  ++idle_lanes_;
  step();
}

}  // namespace servesim

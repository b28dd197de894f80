#pragma once
// Contract: one model replica serving requests with continuous batching. Each
// iteration the scheduler forms a batch; its shape (one segment per prefill
// chunk, one aggregated decode segment) is timed by the ExecutionModel, and
// the iteration's end is one engine event, after which tokens are emitted and
// the next batch is formed at once. Arrivals are pulled lazily from the
// TraceSource at each scheduling point (a request arriving during an
// iteration waits for its end, as in a real engine), so the engine holds at
// most one event per replica plus transfers: no event per token or per
// arrival. Swap preemption moves the request's KV bytes (computed tokens x
// kv_bytes_per_token) GPU->host over the D2H link and back over H2D as engine
// transfers; GPU blocks are freed when the swap-out starts and reserved when
// the swap-in starts. As in vLLM's swapping engines, cache copies run before
// the forward pass: an iteration whose scheduling started swaps begins only
// when they have all crossed the host link (a swapped-in request joins the
// batch after). Swaps started while the replica is idle block nothing. A request whose prompt + output cannot fit the KV cache
// or the model context is rejected (counted, with a reason) or reported as a
// ConfigError, per `oversize_is_error`. Times in seconds.
// With data-parallel replicas the replica does not read the trace: an
// ArrivalFeed (the dispatcher in front of the router) hands it the requests
// routed to it (enqueue) and wakes it when it is idle; at each scheduling
// point the replica first lets the feed route every arrival due by now, so a
// request arriving at the instant an iteration ends is seen by that
// iteration's successor exactly as with one replica reading the trace.
// KV offload (optional, needs prefix caching): published blocks the GPU cache
// evicts while a batch is formed are written to the offload tier in the
// background by one store stream per replica (GPU->host over D2H; cxl: then
// over the CXL link; ssd: then a disk write): blocks evicted while a store is
// in flight go together in the next one (at most the tier's capacity of the
// newest; older ones would be dropped anyway). Blocks become findable when
// their store completes. At admission, blocks that follow the GPU prefix hits and
// sit in the tier are loaded back (host->GPU over H2D; cxl: CXL link first;
// ssd: disk read first) into freshly allocated GPU blocks; they count as
// prefix hits. The request joins the running set when its load completes and
// then prefills only the rest; loads and stores never hold up an iteration.
// Pipeline parallelism (pipeline_stages > 1): the replica runs `micro_batches`
// lanes, as vLLM's virtual engines do: each arrival joins the lane with the
// fewest unfinished requests (ties: the lowest), each lane has its own running
// and waiting queues and at most one batch in flight, and the scheduler forms
// a lane's next batch when its previous one has left the last stage. Batches
// pass the stages in order (PipelineStages), so a token's latency is the sum of
// its stage times and sends, and several lanes keep the stages busy together.
// The lanes share the KV cache (each stage holds its layers' KV of the same
// tokens, so one block table serves every stage). With one stage and one lane
// this is the plain iteration loop above.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/cache/offload_tier.h"
#include "models/execution/execution_model.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/engine.h"
#include "sim/serving/metrics.h"
#include "sim/serving/pipeline_stages.h"
#include "traces/timeline_writer.h"
#include "traces/trace_source.h"

namespace servesim {

/// What a replica does with a request (prefill/decode disaggregation).
enum class ReplicaRole : uint8_t {
  kColocated,  // prefill and decode (the default)
  kPrefill,    // prefill and the first token; then the KV goes to a decode replica
  kDecode,     // continues requests whose KV it received (and re-prefills ones it preempted)
};

/// Takes prefilled requests from prefill replicas (see KvHandoff).
class PrefillHandoff {
 public:
  virtual ~PrefillHandoff() = default;
  /// `request` (state kHandingOff, off the running set, its KV blocks still held) has its first
  /// token; the handoff later calls from.release_handed_off(request) once its KV has left.
  virtual void prefilled(class Replica& from, Request& request) = 0;
};

/// Source of routed arrivals for replicas that do not read the trace themselves.
class ArrivalFeed {
 public:
  virtual ~ArrivalFeed() = default;
  /// Routes every arrival due by `now` (called by `caller` at the start of its scheduling step).
  virtual void deliver_due(double now, const class Replica* caller) = 0;
};

struct ReplicaParams {
  double kv_bytes_per_token = 0.0;  // whole replica (what a swap moves)
  double host_memory_bytes = 0.0;   // room for swapped KV (0 = swap falls back to recompute)
  int64_t max_context_tokens = 0;   // 0 = unknown
  bool oversize_is_error = true;    // else reject and count
  double kv_sample_interval_s = 1.0;
  EndpointId gpu = 0;  // endpoints of the host link (swap)
  EndpointId host = 1;
  // Every GPU of the replica in rank order (on a cluster); empty = {gpu}. Each holds an equal
  // share of the replica's KV, so a KV handoff, a swap and an offload load or store move one share
  // per GPU in parallel (each over that GPU's own links).
  std::vector<EndpointId> gpus;
  // Set (a model whose collectives run on links, on a cluster): without pipeline stages each
  // iteration computes for its time less the communication the execution model priced, then
  // runs that communication on the replica's GPUs through this model (tensor-parallel groups of
  // `tp` consecutive GPUs for all-reduces, all of them for all-to-alls), and ends when it has;
  // with pipeline stages each stage does so on its own GPUs and the sends between stages run
  // through it too (send_activations).
  CollectiveModel* collectives_on_links = nullptr;
  int64_t tp = 1;
  int index = 0;  // replica number (timeline track, requests.csv column when dp > 1)
  // KV offload tier (offload_capacity_blocks 0 = none).
  OffloadTierKind offload_tier = OffloadTierKind::kHost;
  int64_t offload_capacity_blocks = 0;
  EndpointId offload_endpoint = 1;  // where offloaded blocks live: host (host, ssd) or cxl
  DiskId offload_disk = -1;         // ssd
  ReplicaRole role = ReplicaRole::kColocated;
  // Prefill replicas: KV tokens a request needs on its decode replica (prompt + output - 1)
  // may not exceed this (0 = no check): larger ones are rejected at arrival.
  int64_t downstream_kv_tokens = 0;
  int64_t pipeline_stages = 1;  // the plan's pp
  int64_t micro_batches = 1;    // lanes (batches in flight at once); 1 when pipeline_stages is 1
};

struct ReplicaStats {
  int64_t arrived = 0;
  int64_t finished = 0;
  int64_t rejected = 0;
  int64_t output_tokens = 0;  // of finished requests
  int64_t preemptions = 0;
  int64_t swap_outs = 0;
  double swap_out_bytes = 0.0;
  double swap_in_bytes = 0.0;
  double busy_s = 0.0;
  double last_finish_s = 0.0;
  double kv_used_integral = 0.0;  // sum of used fraction x seconds
  double kv_peak_fraction = 0.0;
  int64_t peak_running = 0;
  int64_t peak_waiting = 0;
  int64_t handed_off = 0;          // prefill replicas: requests whose KV went to a decode replica
  int64_t received = 0;            // decode replicas: requests received
  int64_t offload_hit_tokens = 0;  // prompt tokens loaded back from the offload tier
  int64_t offload_loads = 0;       // admissions that loaded blocks
  double offload_load_bytes = 0.0;
  double offload_store_bytes = 0.0;
};

class Replica final : public SchedulerContext {
 public:
  Replica(Engine& engine, ExecutionModel& model, Scheduler& scheduler, KvCache& cache, TraceSource& source,
          Metrics& metrics, const ReplicaParams& params, TimelineWriter* timeline);
  /// Reads the first arrival and schedules the replica's first wake-up (no-op when fed).
  void start();
  /// Takes arrivals from `feed` instead of reading the trace (call before start()).
  void use_feed(ArrivalFeed& feed) { feed_ = &feed; }
  /// Queues a routed arrival under request id `id` (fed replicas).
  void enqueue(RequestSpec& spec, int64_t id) { accept(spec, id); }
  /// Forms a batch now if a lane of the replica is idle (after an enqueue).
  void wake_if_idle() {
    if (can_step()) step();
  }
  /// Schedules a wake-up now (kPhaseArrival) if the replica is idle and none is pending.
  void wake_soon();
  /// Prefill replicas: where prefilled requests go (call before start()).
  void use_handoff(PrefillHandoff& handoff) { handoff_ = &handoff; }
  /// Prefill replicas: the KV of a handed-off request has left; frees its blocks.
  void release_handed_off(Request& request);
  /// Decode replicas: reserves KV blocks for `from` (a prefilled request) and returns the
  /// receiving copy (state kReceiving), or null when the blocks are not free now.
  Request* reserve_incoming(const Request& from);
  /// Decode replicas: the KV of `request` (from reserve_incoming) has arrived; it joins the running set.
  void receive(Request& request);
  /// KV blocks free in the cache now.
  int64_t free_kv_blocks() const { return cache_.free_blocks(); }
  /// KV bytes per token of this replica (what a handoff moves per prompt token).
  double kv_bytes_per_token() const { return params_.kv_bytes_per_token; }
  EndpointId gpu_endpoint() const { return params_.gpu; }
  /// The replica's GPUs in rank order ({gpu_endpoint()} off a cluster).
  std::vector<EndpointId> gpu_endpoints() const {
    return params_.gpus.empty() ? std::vector<EndpointId>{params_.gpu} : params_.gpus;
  }
  ReplicaRole role() const { return params_.role; }
  /// Prompt tokens not yet prefilled + output tokens not yet generated, running and waiting.
  int64_t outstanding_tokens() const;
  const KvCache& cache() const { return cache_; }
  /// The KV offload tier (null when offload is off).
  const KvOffloadTier* offload_tier() const { return tier_.get(); }
  int index() const { return params_.index; }
  /// The pipeline stages (one without pipeline parallelism).
  const PipelineStages& pipeline() const { return pipeline_; }

  const ReplicaStats& stats() const { return stats_; }
  /// (time, used fraction) samples of the KV cache on a kv_sample_interval_s grid; where one step passes
  /// more than two grid points (an idle gap) only the first and the last are kept.
  const std::vector<std::pair<double, double>>& kv_samples() const { return kv_samples_; }
  /// Requests still inside (should be 0 after the run).
  int64_t in_flight() const { return in_flight_; }

  // SchedulerContext (the lane being scheduled)
  std::vector<Request*>& running() override { return current_->running; }
  std::deque<Request*>& waiting() override { return current_->waiting; }
  bool reserve(Request& request, int64_t new_tokens) override;
  int64_t admit(std::size_t index, const Admission& admission) override;
  void preempt(Request& request) override;

 private:
  /// One micro-batch stream (vLLM's virtual engine): its queues and its batch in flight.
  struct Lane {
    std::vector<Request*> running;
    std::deque<Request*> waiting;
    ScheduledBatch batch;
    StageTimes stages;          // of the batch (pipeline plans)
    bool busy = false;          // a batch is formed and has not left the last stage
    uint64_t step_serial = 0;   // the scheduling step that formed it
    int64_t swaps_this_step = 0;
    int64_t swaps_blocking = 0;  // swaps the batch still waits for
    double iteration_s = 0.0;
    int64_t decodes = 0;
    int64_t prefill_tokens = 0;
    int64_t unfinished = 0;  // requests assigned to the lane and still inside
    // Communication run on links (collectives_on_links), per pipeline stage (one without PP), and each
    // stage's compute: its time less the calls' priced seconds.
    std::vector<std::vector<CollectiveCall>> calls;
    std::vector<double> compute_s;
    double begin_s = 0.0;
  };

  void wake();
  void step();
  /// Schedules lane `lane`'s next batch; starts it unless it waits for swaps.
  void form_batch(std::size_t lane);
  void finish_iteration(std::size_t lane);
  void begin_iteration(std::size_t lane);
  /// Runs lane `lane`'s collective `k` of pipeline stage `stage` and the rest after it on that stage's
  /// GPUs' links, one after another; then `done`.
  void run_collectives(std::size_t lane, std::size_t stage, std::size_t k, std::function<void()> done);
  /// Stage `stage` of lane `lane`'s batch (linked collectives): its compute, then its collectives; `done`.
  void run_stage(std::size_t lane, std::size_t stage, std::function<void()> done);
  /// The iteration of lane `lane` without pipeline stages, run on the links, has ended now.
  void end_linked_iteration(std::size_t lane);
  /// Sends a batch's activations from stage `boundary` to the next over the links (flow collectives).
  void send_activations(std::size_t boundary, double bytes, std::function<void()> landed);
  /// Moves `bytes` of the replica's KV between `from` / `to` (host or offload device) and its GPUs: on a
  /// cluster one share per GPU over that GPU's own host link, in parallel; `done` when all have landed.
  void to_gpus(EndpointId from, double bytes, std::function<void()> done);
  void from_gpus(EndpointId to, double bytes, std::function<void()> done);
  void move_kv(EndpointId other, bool to_gpus, double bytes, std::function<void()> done);
  /// Records the iteration's spans (starting at `now`, or at the stages' starts) and ends it at `end`.
  void record_and_finish(std::size_t lane, double now, double end);
  /// A swap started in step `serial` for lane `lane` has crossed the host link.
  void swap_done(std::size_t lane, uint64_t serial);
  /// A lane is idle and no iteration is being finished.
  bool can_step() const { return idle_lanes_ > 0 && !finishing_; }
  /// Assigns `request` to the lane with the fewest unfinished requests.
  Lane& assign_lane(Request& request);
  void pull_arrivals();
  void accept(RequestSpec& spec, int64_t id);
  /// Makes `request.block_hashes` cover its first `blocks` full blocks (trace hashes, then its own).
  void block_hashes_for(Request& request, int64_t blocks);
  void publish_full_blocks(Request& request);
  void sample_kv();
  /// Queues the blocks the GPU cache evicted during this scheduling step for the offload tier.
  void store_evicted();
  /// Writes the queued blocks to the offload tier as one store, unless one is in flight.
  void start_store();
  /// Starts loading `blocks` offloaded blocks of `request` back to the GPU.
  void load_offloaded(Request& request, int64_t blocks);
  Request* new_request();
  void recycle(Request* request);

  Engine& engine_;
  ExecutionModel& model_;
  Scheduler& scheduler_;
  KvCache& cache_;
  TraceSource& source_;
  Metrics& metrics_;
  ReplicaParams params_;
  TimelineWriter* timeline_;
  ArrivalFeed* feed_ = nullptr;
  PrefillHandoff* handoff_ = nullptr;

  std::vector<Lane> lanes_;
  Lane* current_ = nullptr;  // the lane being scheduled
  std::size_t idle_lanes_ = 0;
  bool finishing_ = false;  // inside finish_iteration (handoffs may call back)
  PipelineStages pipeline_;
  std::vector<double> stage_starts_;
  std::vector<std::unique_ptr<Request>> pool_;
  std::vector<Request*> free_;
  BatchShape shape_;
  RequestSpec next_;
  bool has_next_ = false;
  double wake_at_ = -1.0;  // time of the pending idle wake-up (-1 = none)
  uint64_t step_serial_ = 0;
  double host_used_bytes_ = 0.0;
  int64_t next_id_ = 0;
  const Request* blocked_ = nullptr;  // last request whose admission failed, and the state then
  int64_t blocked_free_ = 0;
  uint64_t blocked_generation_ = 0;
  int64_t blocked_max_new_ = 0;
  int64_t in_flight_ = 0;
  int64_t max_kv_tokens_ = 0;
  double kv_last_t_ = 0.0;
  double kv_last_fraction_ = 0.0;
  double next_sample_s_ = 0.0;
  std::vector<std::pair<double, double>> kv_samples_;
  ReplicaStats stats_;
  std::unique_ptr<KvOffloadTier> tier_;
  std::vector<Request*> handed_off_;    // prefill replicas: prefilled in the iteration that just ended
  std::vector<uint64_t> evicted_;       // hashes the GPU cache evicted in this scheduling step
  std::vector<uint64_t> store_backlog_;  // evicted hashes waiting for the store in flight
  bool storing_ = false;
  uint64_t offload_generation_ = 0;     // changes when stored blocks become findable
  uint64_t blocked_offload_generation_ = 0;
};

}  // namespace servesim

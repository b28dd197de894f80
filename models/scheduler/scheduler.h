#pragma once
// Contract: a scheduler forms each iteration's batch on one replica: which
// running sequences advance and by how many tokens, which waiting requests
// are admitted (chunked or whole prefills), and which sequences are preempted
// when KV blocks run out, under a token budget (max_num_batched_tokens) and a
// sequence limit (max_num_seqs). It changes the replica's queues only through
// SchedulerContext, which owns the KV mechanics (prefix lookup, block
// allocation, swap or recompute). It does not time anything. Deterministic:
// ties break by queue order.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "models/scheduler/request.h"
#include "sim/core/params.h"

namespace servesim {

/// What runs in one iteration: each request with the tokens it computes.
struct ScheduledBatch {
  std::vector<Request*> requests;
  std::vector<int64_t> new_tokens;
  int64_t total_tokens = 0;
  void clear() {
    requests.clear();
    new_tokens.clear();
    total_tokens = 0;
  }
  void add(Request* request, int64_t tokens) {
    requests.push_back(request);
    new_tokens.push_back(tokens);
    total_tokens += tokens;
  }
};

/// How one waiting request may be admitted.
struct Admission {
  int64_t max_new_tokens = 0;  // tokens it may compute this iteration
  bool chunking = true;        // false: all pending tokens at once (fails if they exceed max_new_tokens unless alone)
  bool alone = false;          // the batch is empty so far
  /// KV for every pending token is allocated at admission (Sarathi-Serve's and vLLM V0's block
  /// managers), not chunk by chunk as vLLM V1 does.
  bool whole_prompt = false;
  /// Fraction of all blocks that must stay free after the admission (Sarathi-Serve: 0.01).
  double watermark = 0.0;
};

/// The replica's side of scheduling (implemented by the replica).
class SchedulerContext {
 public:
  virtual ~SchedulerContext() = default;
  /// Running sequences in admission order.
  virtual std::vector<Request*>& running() = 0;
  /// Waiting requests: preempted ones at the front, then arrivals in order.
  virtual std::deque<Request*>& waiting() = 0;
  /// Reserves KV for `new_tokens` more tokens of a running request; false if blocks ran out.
  virtual bool reserve(Request& request, int64_t new_tokens) = 0;
  /// Tries to admit waiting request `index` under `admission`: prefix lookup, then KV for the
  /// tokens it computes now (or all pending ones if whole_prompt). Returns the tokens it computes
  /// this iteration, 0 if admitted but not runnable yet (swap-in under way), or -1 if it does not
  /// fit (nothing changed). On success it leaves the waiting queue.
  virtual int64_t admit(std::size_t index, const Admission& admission) = 0;
  /// Preempts a running request (removed from running; swap or recompute per the cache).
  virtual void preempt(Request& request) = 0;
};

class Scheduler {
 public:
  static constexpr const char* kInterfaceName = "scheduler";
  static constexpr const char* kInterfaceSummary =
      "forms each iteration's batch: admission, chunked prefill, preemption (\"scheduler\": {\"impl\": NAME, ...})";
  using Factory = std::function<std::unique_ptr<Scheduler>(const ParamValues&)>;

  virtual ~Scheduler() = default;
  /// Fills `batch` (cleared by the caller) for the next iteration.
  virtual void schedule(SchedulerContext& context, ScheduledBatch& batch) = 0;
  /// Token budget of one iteration (sizes the activation reserve).
  virtual int64_t max_batched_tokens() const = 0;
  /// Batches in flight at once on a pipeline-parallel replica (0 = one per pipeline stage).
  virtual int64_t micro_batches() const { return 0; }
};

/// Knobs shared by the built-in schedulers (impl/*.cc register one each).
struct PolicyParams {
  int64_t max_batched_tokens = 8192;
  int64_t max_seqs = 256;
  int64_t long_prefill_tokens = 0;  // cap per prefill chunk (0 = budget)
  bool chunked_prefill = true;
  bool decodes_first = false;           // sarathi: decodes before any prefill chunk
  bool prefill_only_iterations = false;  // prefill-first: iterations are prefills or decodes, not both
  bool by_priority = false;              // priority classes order admission and preemption
  bool whole_prompt_blocks = false;      // sarathi: a prompt's KV is allocated in full at admission
  double admission_watermark = 0.0;      // sarathi: fraction of blocks kept free by admissions
  int64_t micro_batches = 0;             // pipeline-parallel lanes (0 = the plan's pp)
};

/// The shared batch former configured by `params`.
std::unique_ptr<Scheduler> make_policy_scheduler(const PolicyParams& params);
/// max_num_batched_tokens, max_num_seqs and micro_batches specs (with defaults).
ParamSpecs budget_param_specs(int64_t default_tokens, int64_t default_seqs);
/// The budget_param_specs values in `values`, set on `params`.
void read_budget_params(const ParamValues& values, PolicyParams& params);

}  // namespace servesim

#include "models/scheduler/scheduler.h"

#include <algorithm>
#include <tuple>

namespace servesim {
namespace {

// Which request is more important under priority scheduling: lower class, then earlier arrival.
bool less_important(const Request& a, const Request& b) {
  return std::tie(a.priority, a.arrival_s, a.id) > std::tie(b.priority, b.arrival_s, b.id);
}

class PolicyScheduler : public Scheduler {
 public:
  explicit PolicyScheduler(const PolicyParams& params) : p_(params) {}

  int64_t max_batched_tokens() const override { return p_.max_batched_tokens; }
  int64_t micro_batches() const override { return p_.micro_batches; }

  void schedule(SchedulerContext& context, ScheduledBatch& batch) override {
    int64_t budget = p_.max_batched_tokens;
    if (p_.prefill_only_iterations && !context.waiting().empty()) {
      admit_waiting(context, batch, budget);
      if (!batch.requests.empty()) return;
    }
    bool preempted = false;
    if (p_.decodes_first) {
      preempted = advance_running(context, batch, budget, /*decodes=*/1);
      preempted = advance_running(context, batch, budget, /*decodes=*/0) || preempted;
    } else {
      preempted = advance_running(context, batch, budget, /*decodes=*/-1);
    }
    // As vLLM V1: a step that had to preempt admits nobody (the blocks it freed go to the running).
    // (Sarathi-Serve goes on to admit, but its victims head the queue and need at least the blocks
    // they held, more than the step left free, so FCFS admits nobody there either.)
    if (!p_.prefill_only_iterations && !preempted) admit_waiting(context, batch, budget);
  }

 private:
  // decodes: 1 = only decodes, 0 = only prefills, -1 = both, in running order. True if it preempted.
  bool advance_running(SchedulerContext& context, ScheduledBatch& batch, int64_t& budget, int decodes) {
    std::vector<Request*>& running = context.running();
    bool preempted = false;
    for (std::size_t i = 0; i < running.size() && budget > 0;) {
      Request& request = *running[i];
      const bool decode = request.is_decode();
      if (request.in_batch || (decodes == 1 && !decode) || (decodes == 0 && decode)) {
        ++i;
        continue;
      }
      int64_t tokens = decode ? 1 : std::min(request.pending(), budget);
      if (!decode && p_.long_prefill_tokens > 0) tokens = std::min(tokens, p_.long_prefill_tokens);
      if (!decode && !p_.chunked_prefill && tokens < request.pending()) {
        if (!batch.requests.empty()) {
          ++i;
          continue;
        }
        tokens = request.pending();  // alone in the batch: may exceed the budget rather than starve
      }
      bool preempted_self = false;
      while (!context.reserve(request, tokens)) {
        Request* victim = pick_victim(running, request);
        context.preempt(*victim);
        preempted = true;
        if (victim == &request) {
          preempted_self = true;
          break;
        }
      }
      if (preempted_self) break;  // blocks are exhausted for everyone after it
      request.in_batch = true;
      batch.add(&request, tokens);
      budget -= tokens;
      // `running` may have shrunk behind us (victims come from the unscheduled tail); find our slot again.
      while (i < running.size() && running[i] != &request) ++i;
      ++i;
    }
    return preempted;
  }

  // The running request to preempt: the newest not yet in the batch (FCFS), or the least
  // important not yet in the batch (priority). `current` is always a candidate.
  Request* pick_victim(std::vector<Request*>& running, Request& current) const {
    Request* victim = nullptr;
    for (auto it = running.rbegin(); it != running.rend(); ++it) {
      Request* candidate = *it;
      if (candidate->in_batch && candidate != &current) continue;
      if (!p_.by_priority) return candidate;
      if (victim == nullptr || less_important(*candidate, *victim)) victim = candidate;
    }
    return victim != nullptr ? victim : &current;
  }

  void admit_waiting(SchedulerContext& context, ScheduledBatch& batch, int64_t& budget) {
    std::deque<Request*>& waiting = context.waiting();
    std::vector<Request*>& running = context.running();
    while (!waiting.empty() && budget > 0 && static_cast<int64_t>(running.size()) < p_.max_seqs) {
      std::size_t index = 0;
      if (p_.by_priority) {
        for (std::size_t k = 1; k < waiting.size(); ++k) {
          if (less_important(*waiting[index], *waiting[k])) index = k;
        }
      }
      Request* request = waiting[index];
      Admission admission;
      admission.max_new_tokens = p_.long_prefill_tokens > 0 ? std::min(budget, p_.long_prefill_tokens) : budget;
      admission.chunking = p_.chunked_prefill;
      admission.alone = batch.requests.empty();
      admission.whole_prompt = p_.whole_prompt_blocks;
      admission.watermark = p_.admission_watermark;
      const int64_t tokens = context.admit(index, admission);
      if (tokens < 0) {
        if (p_.by_priority && preempt_less_important(context, *request)) continue;
        break;
      }
      if (tokens == 0) continue;  // swap-in started; runs once its KV is back
      request->in_batch = true;
      batch.add(request, tokens);
      budget -= tokens;
    }
  }

  // Priority admission: make room by preempting a less important running request not in the batch.
  bool preempt_less_important(SchedulerContext& context, const Request& incoming) {
    Request* victim = nullptr;
    for (Request* candidate : context.running()) {
      if (candidate->in_batch || !less_important(*candidate, incoming)) continue;
      if (victim == nullptr || less_important(*candidate, *victim)) victim = candidate;
    }
    if (victim == nullptr) return false;
    context.preempt(*victim);
    return true;
  }

  PolicyParams p_;
};

}  // namespace

std::unique_ptr<Scheduler> make_policy_scheduler(const PolicyParams& params) {
  return std::make_unique<PolicyScheduler>(params);
}

ParamSpecs budget_param_specs(int64_t default_tokens, int64_t default_seqs) {
  return {ParamSpec::integer("max_num_batched_tokens", default_tokens, 1, int64_t{1} << 24,
                             "token budget of one iteration (tokens)"),
          ParamSpec::integer("max_num_seqs", default_seqs, 1, 1 << 20, "sequences running at once"),
          ParamSpec::integer("micro_batches", 0, 0, 1024,
                             "batches in flight at once with pipeline parallelism, as vLLM's virtual engines "
                             "(each arrival joins the one with the fewest unfinished requests; 0 = the plan's pp; "
                             "more than 1 needs pp > 1)")};
}

void read_budget_params(const ParamValues& values, PolicyParams& params) {
  params.max_batched_tokens = values.integer("max_num_batched_tokens");
  params.max_seqs = values.integer("max_num_seqs");
  params.micro_batches = values.integer("micro_batches");
}

}  // namespace servesim

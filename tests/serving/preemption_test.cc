// Claims about block identity and preemption as vLLM V1 does them: every full
// block has a content hash (prompt and output alike), so a request preempted
// for recompute finds its own blocks again and prefills only what was evicted;
// a scheduling step that had to preempt admits no waiting request; Sarathi-Serve
// allocates a prompt's KV in full at admission under a watermark; requests of
// one prefix group, and the turns of one session, share their leading blocks.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/execution/execution_model.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"
#include "workloads/generator.h"

namespace servesim {
namespace {

using testing::AffineModel;
using testing::request;
using testing::VectorSource;

/// AffineModel that keeps every batch it timed.
class RecordingModel : public AffineModel {
 public:
  IterationTiming timing(const BatchShape& batch) override {
    batches.push_back(batch);
    return AffineModel::timing(batch);
  }
  std::vector<BatchShape> batches;
};

std::unique_ptr<Scheduler> scheduler_named(const char* name, int64_t max_batched_tokens = 0) {
  const auto* entry = Registry<Scheduler>::instance().find(name);
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (spec.name == "max_num_batched_tokens" && max_batched_tokens > 0) {
      spec.default_text = std::to_string(max_batched_tokens);
    }
  }
  return entry->factory(default_params(specs));
}

std::unique_ptr<Scheduler> vllm_scheduler() { return scheduler_named("vllm"); }

std::unique_ptr<KvCache> paged(int64_t tokens, bool prefix_caching) {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (spec.name == "prefix_caching") spec.default_text = prefix_caching ? "true" : "false";
  }
  return entry->factory(default_params(specs), tokens);
}

// Prefill segments (new_tokens > 1) of every batch, in order.
std::vector<Segment> prefills(const std::vector<BatchShape>& batches) {
  std::vector<Segment> out;
  for (const BatchShape& b : batches) {
    for (const Segment& s : b.segments) {
      if (s.new_tokens > 1) out.push_back(s);
    }
  }
  return out;
}

std::vector<Segment> run_pressure(bool prefix_caching) {
  RecordingModel model;
  auto scheduler = vllm_scheduler();
  auto cache = paged(8 * 16, prefix_caching);
  // 8 blocks of 16. A (64 in, 18 out) and B (32 in, 40 out) prefill together (4 + 2 blocks), then
  // decode: A's 5th and B's 3rd block fill the cache. When A needs its 6th block (its last decode,
  // computing token 81), B - the newest - is preempted with 48 tokens computed: 3 full blocks,
  // freed tail first, so A's new block is B's 3rd; B's first two stay cached. A finishes in that
  // iteration; B resumes with 32 + 17 = 49 known tokens, finds its 2 cached blocks and prefills 17.
  VectorSource source({request(0.0, 64, 18), request(0.0, 32, 40)});
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = 131072.0;
  run_serving(inputs, model, *scheduler, *cache, source);
  return prefills(model.batches);
}

TEST(Preemption, ARecomputedRequestPrefillsOnlyTheBlocksThatWereEvicted) {
  const std::vector<Segment> p = run_pressure(true);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].new_tokens, 64);
  EXPECT_EQ(p[1].new_tokens, 32);
  EXPECT_EQ(p[2].new_tokens, 17);      // B again: only its evicted third block and its last token
  EXPECT_EQ(p[2].context_tokens, 32);  // its own two blocks, found by their content hashes
}

// Without prefix caching nothing survives a preemption: B prefills all 49 tokens again.
TEST(Preemption, WithoutPrefixCachingARecomputedRequestPrefillsEverything) {
  const std::vector<Segment> p = run_pressure(false);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].new_tokens, 49);
  EXPECT_EQ(p[2].context_tokens, 0);
}

/// A replica's side of scheduling with one KV block pool of `free` blocks of 16 tokens.
class FakeContext : public SchedulerContext {
 public:
  std::vector<Request*>& running() override { return running_; }
  std::deque<Request*>& waiting() override { return waiting_; }
  bool reserve(Request& request, int64_t new_tokens) override {
    const int64_t need = std::max<int64_t>(0, blocks(request.computed + new_tokens) - held(request));
    if (need > free) return false;
    free -= need;
    held_blocks[&request] = held(request) + need;
    return true;
  }
  int64_t admit(std::size_t index, const Admission& admission) override {
    Request& r = *waiting_[index];
    const int64_t tokens = std::min(r.pending(), admission.max_new_tokens);
    const int64_t allocated = blocks(admission.whole_prompt ? r.pending() : tokens);
    if (allocated > free - static_cast<int64_t>(admission.watermark * static_cast<double>(total))) return -1;
    free -= allocated;
    held_blocks[&r] = allocated;
    waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(index));
    running_.push_back(&r);
    return tokens;
  }
  void preempt(Request& request) override {
    free += held(request);
    held_blocks.erase(&request);
    running_.erase(std::find(running_.begin(), running_.end(), &request));
    request.computed = 0;
    waiting_.push_front(&request);
    ++preemptions;
  }
  static int64_t blocks(int64_t tokens) { return (tokens + 15) / 16; }
  int64_t held(const Request& r) const {
    auto it = held_blocks.find(&r);
    return it == held_blocks.end() ? 0 : it->second;
  }
  int64_t free = 0;
  int64_t total = 0;  // blocks in the pool (sizes a watermark)
  int64_t preemptions = 0;
  std::map<const Request*, int64_t> held_blocks;

 private:
  std::vector<Request*> running_;
  std::deque<Request*> waiting_;
};

// System: A decoding at a block boundary with no free block, B decoding (newest), C waiting with a
// 16-token prompt. A's block comes from preempting B, which frees 2 blocks: 1 for A, 1 left that
// would hold C. Expect (vLLM V1): the batch is A alone; neither C nor B is admitted in this step.
TEST(Preemption, AStepThatPreemptedAdmitsNoWaitingRequest) {
  Request a, b, c;
  a.input_tokens = 64, a.generated = 1, a.computed = 64, a.output_tokens = 10;
  b.input_tokens = 20, b.generated = 1, b.computed = 20, b.output_tokens = 10;
  c.input_tokens = 16, c.output_tokens = 2;
  a.id = 0, b.id = 1, c.id = 2;
  FakeContext context;
  context.held_blocks = {{&a, 4}, {&b, 2}};
  context.running().assign({&a, &b});
  context.waiting().assign({&c});
  auto scheduler = vllm_scheduler();
  ScheduledBatch batch;
  scheduler->schedule(context, batch);
  ASSERT_EQ(batch.requests.size(), 1u);
  EXPECT_EQ(batch.requests[0], &a);
  EXPECT_EQ(context.preemptions, 1);
  EXPECT_EQ(context.free, 1);  // enough for C, which still waits (behind B)
  ASSERT_EQ(context.waiting().size(), 2u);
  EXPECT_EQ(context.waiting()[0], &b);
  EXPECT_EQ(context.waiting()[1], &c);
  // The next step has nothing to preempt for and admits from the front: B (21 tokens, 2 blocks)
  // does not fit the one free block, and FCFS stops there.
  for (Request* r : batch.requests) r->in_batch = false;
  a.computed += 1;
  ++a.generated;
  ScheduledBatch next;
  scheduler->schedule(context, next);
  EXPECT_EQ(next.requests.size(), 1u);
}

// System: 8 free blocks of 16 tokens, a 64-token budget, A (100-token prompt) then B (32) waiting.
// Expect: both schedulers run A's first 64 tokens alone; vLLM V1 allocates that chunk's 4 blocks
// (4 left), Sarathi-Serve the whole prompt's 7 (1 left), so A's second chunk needs no block there.
TEST(SarathiAdmission, APromptsKvIsAllocatedInFullWhenItIsAdmitted) {
  for (const char* name : {"vllm", "sarathi"}) {
    Request a, b;
    a.input_tokens = 100, a.output_tokens = 4, a.id = 0;
    b.input_tokens = 32, b.output_tokens = 4, b.id = 1;
    FakeContext context;
    context.free = context.total = 8;
    context.waiting().assign({&a, &b});
    auto scheduler = scheduler_named(name, 64);
    ScheduledBatch batch;
    scheduler->schedule(context, batch);
    ASSERT_EQ(batch.requests.size(), 1u) << name;
    EXPECT_EQ(batch.new_tokens[0], 64) << name;
    const bool sarathi = std::string(name) == "sarathi";
    EXPECT_EQ(context.free, sarathi ? 1 : 4) << name;
    EXPECT_EQ(context.held(a), sarathi ? 7 : 4) << name;
  }
}

// System: 200 blocks in all, 9 free, C waiting with a 128-token prompt (8 blocks). Expect: vLLM V1
// admits it (8 <= 9); Sarathi-Serve keeps 1 % of the pool free (int(0.01 x 200) = 2 blocks), so
// 9 - 8 = 1 < 2 refuses it until a block is freed.
TEST(SarathiAdmission, AnAdmissionMustLeaveTheWatermarkFree) {
  for (const char* name : {"vllm", "sarathi"}) {
    Request c;
    c.input_tokens = 128, c.output_tokens = 4, c.id = 2;
    FakeContext context;
    context.total = 200;
    context.free = 9;
    context.waiting().assign({&c});
    ScheduledBatch batch;
    scheduler_named(name, 512)->schedule(context, batch);
    EXPECT_EQ(batch.requests.size(), std::string(name) == "sarathi" ? 0u : 1u) << name;
    context.free = 10;
    batch.clear();
    if (std::string(name) == "sarathi") {
      scheduler_named(name, 512)->schedule(context, batch);
      EXPECT_EQ(batch.requests.size(), 1u);
    }
  }
}

std::vector<Segment> prefills_of(TraceSource& source) {
  RecordingModel model;
  auto scheduler = vllm_scheduler();
  auto cache = paged(1 << 16, true);
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = 131072.0;
  run_serving(inputs, model, *scheduler, *cache, source);
  return prefills(model.batches);
}

std::vector<Segment> prefills_of(std::vector<RequestSpec> requests) {
  VectorSource source(std::move(requests));
  return prefills_of(source);
}

// Input: 4 requests, one per second, each a 1,024-token prefix of group 9 and 100 tokens of its own.
// Expect: the prefix is prefilled once: 1,124 tokens, then 100 after 1,024 cached for each other.
TEST(SharedPrefix, RequestsOfOnePrefixGroupPrefillItOnce) {
  std::vector<RequestSpec> requests;
  for (int i = 0; i < 4; ++i) {
    RequestSpec spec = request(static_cast<double>(i), 1124, 3);
    set_prefix_group(spec, 9, 1024);
    requests.push_back(spec);
  }
  const std::vector<Segment> p = prefills_of(requests);
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].new_tokens, 1124);
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(p[i].new_tokens, 100) << i;
    EXPECT_EQ(p[i].context_tokens, 1024) << i;
  }
}

// The same through the generator: 20 Poisson arrivals (0.1/s) of one 1,024-token prefix group
// with 100 tokens of their own. Expect: 1,024 + 20 x 100 tokens prefilled in all, the prefix once.
TEST(SharedPrefix, GeneratedRequestsOfOnePrefixGroupPrefillItOnce) {
  GeneratorParams p;
  p.rate_per_s = 0.1;
  p.num_requests = 20;
  p.seed = 3;
  p.input = LengthDistribution{LengthShape::kFixed, 100, 1, 1, 0.0, 0.0};
  p.output = LengthDistribution{LengthShape::kFixed, 3, 1, 1, 0.0, 0.0};
  p.sharing.prefix_groups = 1;
  p.sharing.prefix_tokens = 1024;
  auto source = make_generator(p, "g");
  int64_t prefilled = 0;
  for (const Segment& s : prefills_of(*source)) prefilled += s.new_tokens * s.sequences;
  EXPECT_EQ(prefilled, 1024 + 20 * 100);
}

// Generated sessions: 2 turns, inputs 100, outputs 20, think time 100 s. Turn 1 computes 119
// tokens' KV (its last token is never fed back): 7 full blocks. Expect: every turn 2 (prompt 220)
// prefills 220 - 112 = 108 tokens after 112 found.
TEST(SharedPrefix, GeneratedTurnsReuseThePreviousTurnsBlocks) {
  GeneratorParams p;
  p.rate_per_s = 0.01;
  p.num_requests = 10;
  p.seed = 5;
  p.input = LengthDistribution{LengthShape::kFixed, 100, 1, 1, 0.0, 0.0};
  p.output = LengthDistribution{LengthShape::kFixed, 20, 1, 1, 0.0, 0.0};
  p.sharing.turns = 2;
  p.sharing.think_time_s = 100.0;
  auto source = make_generator(p, "g");
  int second_turns = 0;
  for (const Segment& s : prefills_of(*source)) {
    if (s.context_tokens == 0) {
      EXPECT_EQ(s.new_tokens, 100);
    } else {
      EXPECT_EQ(s.context_tokens, 112);
      EXPECT_EQ(s.new_tokens, 108);
      ++second_turns;
    }
  }
  EXPECT_GT(second_turns, 0);
}

// Input: turn 1 of session 5 (200 in, 50 out) and, 10 s later, turn 2 whose prompt is turn 1's
// prompt and answer plus 100 new tokens (350). Turn 1 computed 249 tokens' KV (its last token is
// never fed back): 15 full blocks. Expect: turn 2 finds them and prefills 350 - 240 = 110 tokens;
// the same two requests without the session share nothing.
TEST(SharedPrefix, ANewTurnOfASessionReusesThePreviousTurnsBlocks) {
  RequestSpec first = request(0.0, 200, 50), second = request(10.0, 350, 5);
  first.session = second.session = 5;
  const std::vector<Segment> p = prefills_of({first, second});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].new_tokens, 110);
  EXPECT_EQ(p[1].context_tokens, 240);
  first.session = second.session = 0;
  EXPECT_EQ(prefills_of({first, second})[1].new_tokens, 350);
}

}  // namespace
}  // namespace servesim

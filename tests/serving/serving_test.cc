// Claims about the serving core with closed-form oracles. The execution model
// is a fake defined here: an iteration takes kFixed + kPerToken x (tokens
// computed), so every expected time below is arithmetic on those constants.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/execution/execution_model.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/config_error.h"
#include "sim/core/registry.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"
#include "traces/trace_source.h"
#include "workloads/generator.h"

namespace servesim {
namespace {

using testing::AffineModel;
using testing::kEnergy;
using testing::kFixed;
using testing::kPerToken;
using testing::request;
using testing::VectorSource;

std::unique_ptr<Scheduler> scheduler(const std::string& name) {
  const auto* entry = Registry<Scheduler>::instance().find(name);
  EXPECT_NE(entry, nullptr) << name;
  return entry->factory(default_params(entry->info.params));
}

std::unique_ptr<KvCache> cache(int64_t capacity_tokens, bool prefix, const std::string& preemption) {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (spec.name == "prefix_caching") spec.default_text = prefix ? "true" : "false";
    if (spec.name == "preemption") spec.default_text = "\"" + preemption + "\"";
  }
  return entry->factory(default_params(specs), capacity_tokens);
}

struct SimRun {
  ServingResult result;
  std::vector<std::vector<std::string>> rows;  // requests.csv without header
  double column(std::size_t row, const std::string& name) const {
    static const std::vector<std::string> header = {
        "id", "status", "arrival_s", "input_tokens", "output_tokens", "priority", "first_scheduled_s",
        "first_token_s", "finish_s", "ttft_s", "tpot_s", "e2e_s", "queueing_s", "max_itl_s", "preemptions",
        "prefix_hit_tokens", "prefill_s", "decode_s", "inference_s"};
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (header[c] == name) return std::stod(rows.at(row).at(c));
    }
    ADD_FAILURE() << "no column " << name;
    return 0.0;
  }
  // Row of request `id` (rows are in finish order).
  std::size_t row_of(int64_t id) const {
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (std::stoll(rows[r][0]) == id) return r;
    }
    ADD_FAILURE() << "no request " << id;
    return 0;
  }
};

SimRun simulate(std::vector<RequestSpec> requests, const std::string& scheduler_name, std::unique_ptr<KvCache> kv,
             ServingInputs inputs = {}) {
  AffineModel model;
  auto sched = scheduler(scheduler_name);
  VectorSource source(std::move(requests));
  if (inputs.kv_bytes_per_token_replica == 0.0) inputs.kv_bytes_per_token_replica = 131072.0;
  SimRun run;
  run.result = run_serving(inputs, model, *sched, *kv, source);
  std::string csv = run.result.requests_csv;
  std::size_t start = csv.find('\n') + 1;
  while (start < csv.size()) {
    const std::size_t end = csv.find('\n', start);
    std::vector<std::string> fields;
    std::string line = csv.substr(start, end - start);
    std::size_t p = 0;
    for (;;) {
      const std::size_t comma = line.find(',', p);
      fields.push_back(line.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
      if (comma == std::string::npos) break;
      p = comma + 1;
    }
    run.rows.push_back(fields);
    start = end + 1;
  }
  return run;
}

// System: one replica, vllm scheduler, ample KV. Input: one request, 100-token prompt, 5 outputs.
// Expect: TTFT = one prefill iteration (kFixed + 100 kPerToken, no other overhead in the core);
// E2E = TTFT + 4 decode iterations of (kFixed + kPerToken).
TEST(ServingCore, OneRequestOnIdleReplicaTakesOnePrefillThenOneIterationPerToken) {
  SimRun run = simulate({request(0.0, 100, 5)}, "vllm", cache(1 << 20, true, "recompute"));
  const double ttft = kFixed + 100 * kPerToken;
  EXPECT_NEAR(run.column(0, "ttft_s"), ttft, 1e-12);
  EXPECT_NEAR(run.column(0, "e2e_s"), ttft + 4 * (kFixed + kPerToken), 1e-12);
  EXPECT_NEAR(run.column(0, "tpot_s"), kFixed + kPerToken, 1e-12);
  // vLLM's intervals: nothing queued, so prefill = TTFT, decode = the 4 decodes, inference = E2E.
  EXPECT_NEAR(run.column(0, "prefill_s"), ttft, 1e-12);
  EXPECT_NEAR(run.column(0, "decode_s"), 4 * (kFixed + kPerToken), 1e-12);
  EXPECT_NEAR(run.column(0, "inference_s"), ttft + 4 * (kFixed + kPerToken), 1e-12);
  EXPECT_EQ(run.result.iterations, 5);
  EXPECT_NEAR(run.result.summary["energy"]["iterations_j"].get<double>(), 5 * kEnergy, 1e-12);
}

// Input: a request arriving at t = 3 s on an idle replica. Expect: TTFT measured from arrival, queueing 0.
TEST(ServingCore, LateArrivalIsTimedFromItsArrival) {
  SimRun run = simulate({request(3.0, 10, 2)}, "vllm", cache(1 << 20, true, "recompute"));
  EXPECT_NEAR(run.column(0, "ttft_s"), kFixed + 10 * kPerToken, 1e-12);
  EXPECT_NEAR(run.column(0, "queueing_s"), 0.0, 1e-12);
  EXPECT_NEAR(run.column(0, "first_token_s"), 3.0 + kFixed + 10 * kPerToken, 1e-12);
}

// Input: two identical requests at t = 0. Expect: one shared prefill iteration of 200 tokens, then
// shared decode iterations of 2 tokens: both TTFT = kFixed + 200 kPerToken, E2E = TTFT + 4 (kFixed + 2 kPerToken).
TEST(ServingCore, TwoSimultaneousIdenticalRequestsShareIterations) {
  SimRun run = simulate({request(0.0, 100, 5), request(0.0, 100, 5)}, "vllm", cache(1 << 20, true, "recompute"));
  const double ttft = kFixed + 200 * kPerToken;
  for (std::size_t r = 0; r < 2; ++r) {
    EXPECT_NEAR(run.column(r, "ttft_s"), ttft, 1e-12);
    EXPECT_NEAR(run.column(r, "e2e_s"), ttft + 4 * (kFixed + 2 * kPerToken), 1e-12);
  }
  EXPECT_EQ(run.result.iterations, 5);
}

// Sarathi's default chunk budget (512) splits a 1000-token prompt: chunks of 512 and 488.
// Expect: TTFT = 2 kFixed + 1000 kPerToken.
TEST(ServingCore, SarathiChunksALongPromptIntoBudgetSizedIterations) {
  SimRun run = simulate({request(0.0, 1000, 2)}, "sarathi", cache(1 << 20, true, "recompute"));
  EXPECT_NEAR(run.column(0, "ttft_s"), 2 * kFixed + 1000 * kPerToken, 1e-12);
  EXPECT_EQ(run.result.iterations, 3);
}

// Prefill-first: a request arriving while another decodes gets a prefill-only iteration.
// A (10 in, 3 out) at 0: prefill [0, f+10p]; B (10 in, 2 out) arrives at 0.001 s, during A's prefill.
// Expect: iteration 2 is B's prefill alone (f + 10p), so B's TTFT = 2(f+10p) - 0.001.
TEST(ServingCore, PrefillFirstRunsWaitingPrefillsBeforeDecodes) {
  SimRun run = simulate({request(0.0, 10, 3), request(0.001, 10, 2)}, "prefill-first", cache(1 << 20, true, "recompute"));
  const double prefill = kFixed + 10 * kPerToken;
  EXPECT_NEAR(run.column(run.row_of(1), "ttft_s"), 2 * prefill - 0.001, 1e-12);
}

// KV holds 64 tokens; a request needing 100 + 50 - 1 tokens of KV can never fit.
// With "reject": it is counted as rejected with the reason; the other request finishes.
TEST(ServingCore, RequestWhoseKvCannotFitIsRejectedAndCounted) {
  ServingInputs inputs;
  inputs.oversize_is_error = false;
  SimRun run = simulate({request(0.0, 100, 50), request(0.0, 10, 2)}, "vllm", cache(64, true, "recompute"), inputs);
  EXPECT_EQ(run.result.arrived, 2);
  EXPECT_EQ(run.result.rejected, 1);
  EXPECT_EQ(run.result.finished, 1);
  EXPECT_EQ(run.result.summary["requests"]["first_rejection"].get<std::string>(),
            "request 0: needs KV for 149 tokens but the replica's KV cache holds 64 tokens");
  EXPECT_EQ(run.rows.at(run.row_of(0)).at(1), "rejected");
}

// Same with "error" (the default): one ConfigError naming the source.
TEST(ServingCore, RequestWhoseKvCannotFitIsAnErrorByDefault) {
  try {
    simulate({request(0.0, 100, 50)}, "vllm", cache(64, true, "recompute"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "test-trace: request 0 needs KV for 149 tokens but the replica's KV cache holds 64 tokens");
  }
}

// A (80 tokens, 5 prefix hashes of 16 tokens) finishes; B with the same hashes arrives later.
// At most (80 - 1) / 16 = 4 blocks can be reused (one token is always computed): 64 hit tokens.
// Expect: B's prefill is shorter by exactly 64 tokens: TTFT_B = TTFT_A - 64 kPerToken.
TEST(ServingCore, PrefixHitsShortenPrefillByExactlyTheHitTokens) {
  RequestSpec a = request(0.0, 80, 2), b = request(10.0, 80, 2);
  a.prefix_hashes = b.prefix_hashes = {11, 12, 13, 14, 15};
  a.hash_block_tokens = b.hash_block_tokens = 16;
  SimRun run = simulate({a, b}, "vllm", cache(1 << 20, true, "recompute"));
  EXPECT_NEAR(run.column(0, "ttft_s"), kFixed + 80 * kPerToken, 1e-12);
  EXPECT_NEAR(run.column(1, "ttft_s"), kFixed + 16 * kPerToken, 1e-12);
  EXPECT_EQ(run.column(1, "prefix_hit_tokens"), 64);
  EXPECT_NEAR(run.result.summary["prefix_hit_rate"].get<double>(), 64.0 / 160.0, 1e-12);
}

// Mooncake-style 512-token hashes map onto 16-token blocks: a shared first hash = 32 shared blocks.
TEST(ServingCore, MooncakeHashBlocksMapOntoKvBlocks) {
  RequestSpec a = request(0.0, 1000, 2), b = request(10.0, 700, 2);
  a.prefix_hashes = {7, 8};
  b.prefix_hashes = {7, 9};
  a.hash_block_tokens = b.hash_block_tokens = 512;
  SimRun run = simulate({a, b}, "vllm", cache(1 << 20, true, "recompute"));
  EXPECT_EQ(run.column(1, "prefix_hit_tokens"), 512);
  EXPECT_NEAR(run.column(1, "ttft_s"), kFixed + (700 - 512) * kPerToken, 1e-12);
}

// KV of 4 blocks x 16 tokens; A and B (16 in, 40 out) at t = 0, swap preemption, D2H 10 GB/s,
// H2D 20 GB/s, latency 5 us, 131072 B per token. Both run until each holds 32 tokens and A needs a
// third block: B (newest) is swapped out holding 32 tokens and comes back after A finishes.
// Cache copies run before the forward pass, so A's first iteration after the preemption starts
// only once B's KV has crossed D2H. Expect: exactly 32 x 131072 B move each way;
// A finishes at T_A + latency + bytes / D2H, T_A = (f + 32p) + 16 (f + 2p) + 23 (f + p);
// B at A's finish + latency + bytes / H2D + 23 decode iterations (the replica is idle meanwhile).
TEST(ServingCore, SwapPreemptionMovesExactlyTheRequestsKvBytesOverTheHostLink) {
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = 131072.0;
  inputs.host_link = {"test-link", 20e9, 10e9, 5e-6};
  inputs.host_memory_bytes = 1e12;
  SimRun run = simulate({request(0.0, 16, 40), request(0.0, 16, 40)}, "vllm", cache(64, false, "swap"), inputs);
  const double bytes = 32 * 131072.0;
  EXPECT_DOUBLE_EQ(run.result.swap_out_bytes, bytes);
  EXPECT_DOUBLE_EQ(run.result.swap_in_bytes, bytes);
  const double t_a = (kFixed + 32 * kPerToken) + 16 * (kFixed + 2 * kPerToken) + 23 * (kFixed + kPerToken) +
                     5e-6 + bytes / 10e9;
  EXPECT_NEAR(run.column(run.row_of(0), "finish_s"), t_a, 1e-9);
  EXPECT_NEAR(run.column(run.row_of(1), "finish_s"), t_a + 5e-6 + bytes / 20e9 + 23 * (kFixed + kPerToken), 1e-9);
  EXPECT_EQ(run.column(run.row_of(1), "preemptions"), 1);
}

// The same squeeze over host links of different speeds (PCIe Gen4-like D2H 5 GB/s, NVLink-C2C-like
// 200 GB/s): the running request pays the swap-out in its own latency, in proportion to the link.
// Expect: A finishes at T_A + latency + bytes / D2H.
class SwapOverHostLink : public ::testing::TestWithParam<double> {};

TEST_P(SwapOverHostLink, SwapOutDelaysTheRunningBatchByTheHostLinkTime) {
  const double d2h = GetParam();
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = 131072.0;
  inputs.host_link = {"test-link", d2h, d2h, 2e-6};
  inputs.host_memory_bytes = 1e12;
  SimRun run = simulate({request(0.0, 16, 40), request(0.0, 16, 40)}, "vllm", cache(64, false, "swap"), inputs);
  const double bytes = 32 * 131072.0;
  const double t_a = (kFixed + 32 * kPerToken) + 16 * (kFixed + 2 * kPerToken) + 23 * (kFixed + kPerToken);
  EXPECT_NEAR(run.column(run.row_of(0), "finish_s"), t_a + 2e-6 + bytes / d2h, 1e-9);
}

INSTANTIATE_TEST_SUITE_P(SlowAndFastLinks, SwapOverHostLink, ::testing::Values(5e9, 200e9));

// Same squeeze with recompute: B drops its KV and later prefills its 16 + 17 known tokens again.
// Expect: B finishes at T_A + (f + 33p) + 22 (f + p); nothing crosses the host link.
TEST(ServingCore, RecomputePreemptionPrefillsPromptAndGeneratedTokensAgain) {
  SimRun run = simulate({request(0.0, 16, 40), request(0.0, 16, 40)}, "vllm", cache(64, false, "recompute"));
  const double t_a = (kFixed + 32 * kPerToken) + 16 * (kFixed + 2 * kPerToken) + 23 * (kFixed + kPerToken);
  EXPECT_NEAR(run.column(run.row_of(1), "finish_s"), t_a + (kFixed + 33 * kPerToken) + 22 * (kFixed + kPerToken),
              1e-9);
  EXPECT_EQ(run.result.swap_out_bytes, 0.0);
}

// Conservation under pressure: 2000 generated requests, a small KV cache, each scheduler and
// both preemption modes. Expect: arrived = finished + rejected, and nothing left in flight.
class Conservation : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Conservation, EveryArrivedRequestFinishesOrIsRejected) {
  const auto& [scheduler_name, preemption] = GetParam();
  std::vector<RequestSpec> requests = testing::pressure_requests();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    requests[i].priority = static_cast<int64_t>(i % 3);
    requests[i].prefix_hashes = {static_cast<int64_t>(i % 5), static_cast<int64_t>(i)};
    requests[i].hash_block_tokens = 64;
  }
  ServingInputs inputs;
  inputs.oversize_is_error = false;
  inputs.host_link = {"test-link", 20e9, 10e9, 5e-6};
  inputs.host_memory_bytes = 2e9;
  SimRun run = simulate(requests, scheduler_name, cache(4096, true, preemption), inputs);
  EXPECT_EQ(run.result.arrived, 2000);
  EXPECT_EQ(run.result.finished + run.result.rejected, run.result.arrived);
  EXPECT_EQ(static_cast<int64_t>(run.rows.size()), run.result.arrived);
  EXPECT_GT(run.result.summary["preemptions"].get<int64_t>(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllSchedulers, Conservation,
                         ::testing::Combine(::testing::Values("vllm", "sarathi", "orca", "prefill-first", "priority"),
                                            ::testing::Values("recompute", "swap")),
                         [](const auto& param_info) {
                           std::string name = std::get<0>(param_info.param) + "_" + std::get<1>(param_info.param);
                           for (char& c : name) c = (c == '-') ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace servesim

// Claims about data-parallel replicas behind a router, with closed-form
// oracles. The execution model is the same affine fake as serving_test.cc: an
// iteration takes kFixed + kPerToken x (tokens computed), so a request on an
// idle replica of its own has TTFT = kFixed + input x kPerToken and each later
// token takes kFixed + kPerToken.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/execution/execution_model.h"
#include "models/router/router.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"
#include "traces/trace_source.h"

namespace servesim {
namespace {

using testing::AffineModel;
using testing::kEnergy;
using testing::kFixed;
using testing::kPerToken;
using testing::request;
using testing::VectorSource;

std::vector<int64_t> prefix(int64_t first, int64_t blocks) {
  std::vector<int64_t> hashes;
  for (int64_t b = 0; b < blocks; ++b) hashes.push_back(first + b);
  return hashes;
}

std::unique_ptr<KvCache> cache(int64_t capacity_tokens) {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (spec.name == "prefix_caching") spec.default_text = "true";
    if (spec.name == "preemption") spec.default_text = "\"recompute\"";
  }
  return entry->factory(default_params(specs), capacity_tokens);
}

// `name` with its defaults, or "prefix-aware/cache-only" (recent_blocks = 0: KV-cache queries only).
std::unique_ptr<Router> router(const std::string& name) {
  const bool cache_only = name == "prefix-aware/cache-only";
  const auto* entry = Registry<Router>::instance().find(cache_only ? "prefix-aware" : name);
  EXPECT_NE(entry, nullptr) << name;
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (cache_only && spec.name == "recent_blocks") spec.default_text = "0";
  }
  return entry->factory(default_params(specs));
}

struct DpRun {
  ServingResult result;
  std::vector<std::vector<std::string>> rows;  // requests.csv without header
  std::vector<std::string> header;
  std::string field(int64_t id, const std::string& name) const {
    std::size_t column = 0;
    while (column < header.size() && header[column] != name) ++column;
    for (const auto& row : rows) {
      if (std::stoll(row.at(0)) == id) return row.at(column);
    }
    ADD_FAILURE() << "no request " << id;
    return "";
  }
  double number(int64_t id, const std::string& name) const { return std::stod(field(id, name)); }
  int64_t replica_of(int64_t id) const { return std::stoll(field(id, "replica")); }
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t p = 0;
  for (;;) {
    const std::size_t comma = line.find(',', p);
    fields.push_back(line.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
    if (comma == std::string::npos) return fields;
    p = comma + 1;
  }
}

// `replicas` identical replicas (vllm, `capacity_tokens` of KV each) behind `router_name`
// ("" = one replica reading the trace itself).
DpRun simulate(std::vector<RequestSpec> requests, int replicas, const std::string& router_name,
               int64_t capacity_tokens = 1 << 20, ServingInputs inputs = {}) {
  std::vector<std::unique_ptr<AffineModel>> models;
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<ReplicaParts> parts;
  const auto* vllm = Registry<Scheduler>::instance().find("vllm");
  for (int i = 0; i < replicas; ++i) {
    models.push_back(std::make_unique<AffineModel>());
    schedulers.push_back(vllm->factory(default_params(vllm->info.params)));
    caches.push_back(cache(capacity_tokens));
    parts.push_back(ReplicaParts{models.back().get(), schedulers.back().get(), caches.back().get()});
  }
  std::unique_ptr<Router> chosen = router_name.empty() ? nullptr : router(router_name);
  VectorSource source(std::move(requests));
  if (inputs.kv_bytes_per_token_replica == 0.0) inputs.kv_bytes_per_token_replica = 131072.0;
  DpRun run;
  run.result = run_serving(inputs, parts, chosen.get(), source);
  const std::string& csv = run.result.requests_csv;
  std::size_t start = csv.find('\n');
  run.header = split(csv.substr(0, start));
  ++start;
  while (start < csv.size()) {
    const std::size_t end = csv.find('\n', start);
    run.rows.push_back(split(csv.substr(start, end - start)));
    start = end + 1;
  }
  return run;
}

int64_t replica_count(const DpRun& run, int replica, const char* key) {
  return run.result.summary["replicas"].at(static_cast<std::size_t>(replica))[key].get<int64_t>();
}

// System: 2 replicas, round-robin. Input: 4 requests (10 in, 2 out) one second apart.
// Expect: replicas 0, 1, 0, 1; each replica counts 2 requests and 4 output tokens.
TEST(Router, RoundRobinWithTwoReplicasSendsRequestsAlternately) {
  DpRun run = simulate({request(0, 10, 2), request(1, 10, 2), request(2, 10, 2), request(3, 10, 2)}, 2, "round-robin");
  for (int64_t id = 0; id < 4; ++id) EXPECT_EQ(run.replica_of(id), id % 2) << id;
  for (int replica = 0; replica < 2; ++replica) {
    EXPECT_EQ(replica_count(run, replica, "requests"), 2);
    EXPECT_EQ(replica_count(run, replica, "finished"), 2);
    EXPECT_EQ(replica_count(run, replica, "output_tokens"), 4);
  }
}

// System: 2 replicas, round-robin. Input: two identical requests (100 in, 5 out) at t = 0.
// Expect: no shared iterations: each has TTFT = kFixed + 100 kPerToken and
// E2E = TTFT + 4 (kFixed + kPerToken), as one request alone; 5 iterations per replica.
TEST(DataParallel, TwoSimultaneousIdenticalRequestsOnTwoReplicasEachFinishAsFastAsOneAlone) {
  DpRun run = simulate({request(0, 100, 5), request(0, 100, 5)}, 2, "round-robin");
  const double ttft = kFixed + 100 * kPerToken;
  for (int64_t id = 0; id < 2; ++id) {
    EXPECT_EQ(run.replica_of(id), id);
    EXPECT_NEAR(run.number(id, "ttft_s"), ttft, 1e-12);
    EXPECT_NEAR(run.number(id, "e2e_s"), ttft + 4 * (kFixed + kPerToken), 1e-12);
  }
  EXPECT_EQ(run.result.iterations, 10);
  // Throughput per GPU divides by both replicas' GPUs; energy sums both replicas' iterations.
  const auto& throughput = run.result.summary["throughput"];
  EXPECT_NEAR(throughput["output_tokens_per_s_per_gpu"].get<double>(),
              throughput["output_tokens_per_s"].get<double>() / 2, 1e-9);
  EXPECT_NEAR(run.result.summary["energy"]["iterations_j"].get<double>(), 10 * kEnergy, 1e-12);
}

// System: 2 replicas, least-loaded. Input: A (1000 in, 100 out) at 0 -> replica 0 (tie, lowest
// index); B (10 in, 2 out) at 0.001 -> replica 1 (replica 0 holds A); C (10 in, 2 out) at 0.5,
// when B has finished (by 0.032 s) and A still decodes (until ~1.1 s).
// Expect: C goes to idle replica 1 (round-robin would pick 0) with TTFT = kFixed + 10 kPerToken.
TEST(Router, LeastLoadedSendsANewRequestToTheIdleReplicaWhenTheOtherIsBusy) {
  DpRun run = simulate({request(0, 1000, 100), request(0.001, 10, 2), request(0.5, 10, 2)}, 2, "least-loaded");
  EXPECT_EQ(run.replica_of(0), 0);
  EXPECT_EQ(run.replica_of(1), 1);
  EXPECT_EQ(run.replica_of(2), 1);
  EXPECT_NEAR(run.number(2, "ttft_s"), kFixed + 10 * kPerToken, 1e-12);
  EXPECT_EQ(replica_count(run, 0, "requests"), 1);
  EXPECT_EQ(replica_count(run, 1, "requests"), 2);
}

// System: 2 replicas, prefix-aware asking the KV caches only, prefix caching, 16-token blocks. Input: A (prefix P, 512 in)
// at 0 -> replica 0; B (prefix Q, 512 in) at 0.001 -> replica 1 (least-loaded fallback: no hit
// anywhere, replica 0 busy); C (prefix Q again) at 5 s when both are idle.
// Expect: C goes to replica 1, which holds Q's 31 full blocks before C's last token (496 tokens),
// so its prefill computes 16 tokens: TTFT = kFixed + 16 kPerToken. Least-loaded would pick 0.
TEST(Router, PrefixAwareSendsASharedPrefixToTheReplicaThatServedIt) {
  DpRun run = simulate({request(0, 512, 2, prefix(1, 32)), request(0.001, 512, 2, prefix(1001, 32)),
                        request(5, 512, 2, prefix(1001, 32))},
                       2, "prefix-aware/cache-only");
  EXPECT_EQ(run.replica_of(0), 0);
  EXPECT_EQ(run.replica_of(1), 1);
  EXPECT_EQ(run.replica_of(2), 1);
  EXPECT_EQ(run.number(2, "prefix_hit_tokens"), 496);
  EXPECT_NEAR(run.number(2, "ttft_s"), kFixed + 16 * kPerToken, 1e-12);
}

// System: 2 replicas, prefix-aware (default: also remembers recently routed prompts). Input: A
// (prefix P, 512 in) at 0 -> replica 0; B (prefix Q, 100 in) at 0.0005 -> replica 1 (no hit,
// replica 0 busier); C (prefix P, 512 in) at 0.001, while A's prefill still runs (until
// kFixed + 512 kPerToken = 0.0612 s), so no KV of P is cached anywhere yet.
// Expect: C follows A to replica 0 (least-loaded would pick replica 1: 102 < 514 outstanding
// tokens) and, admitted after A's prefill, hits A's 31 published blocks (496 tokens).
TEST(Router, PrefixAwareKeepsRequestsWithOnePrefixTogetherBeforeItIsCached) {
  DpRun run = simulate({request(0, 512, 2, prefix(1, 32)), request(0.0005, 100, 2, prefix(1001, 7)),
                        request(0.001, 512, 2, prefix(1, 32))},
                       2, "prefix-aware");
  EXPECT_EQ(run.replica_of(0), 0);
  EXPECT_EQ(run.replica_of(1), 1);
  EXPECT_EQ(run.replica_of(2), 0);
  EXPECT_EQ(run.number(2, "prefix_hit_tokens"), 496);
  DpRun cache_only = simulate({request(0, 512, 2, prefix(1, 32)), request(0.0005, 100, 2, prefix(1001, 7)),
                               request(0.001, 512, 2, prefix(1, 32))},
                              2, "prefix-aware/cache-only");
  EXPECT_EQ(cache_only.replica_of(2), 1);
}

// System: 2 replicas, prefix-aware with its default balance bound (16384 tokens). Input: A (prefix
// P, 512 in, 20000 out) at 0 -> replica 0; B (prefix P again) at 0.001.
// Expect: B goes to idle replica 1 although replica 0 holds P: replica 0 has 20512 outstanding
// tokens, more than 16384 above replica 1's 0.
TEST(Router, PrefixAwareGivesUpAPrefixHitWhenItsReplicaIsFarBusier) {
  DpRun run = simulate({request(0, 512, 20000, prefix(1, 32)), request(0.001, 512, 2, prefix(1, 32))}, 2,
                       "prefix-aware");
  EXPECT_EQ(run.replica_of(0), 0);
  EXPECT_EQ(run.replica_of(1), 1);
  EXPECT_EQ(run.number(1, "prefix_hit_tokens"), 0);
}

// One replica behind a router reproduces one replica reading the trace itself, byte for byte
// (arrivals at the instant an iteration ends join the next batch in both).
TEST(DataParallel, OneReplicaBehindARouterMatchesOneReplicaReadingTheTrace) {
  std::vector<RequestSpec> requests;
  for (int i = 0; i < 50; ++i) requests.push_back(request(0.0111 * (i / 3), 20 + 37 * (i % 7), 1 + (i * 13) % 9));
  requests.push_back(request(0.0111 * 17 + kFixed + 20 * kPerToken, 20, 3));  // lands on an iteration end
  DpRun direct = simulate(requests, 1, "");
  DpRun routed = simulate(requests, 1, "least-loaded");
  EXPECT_EQ(direct.result.requests_csv, routed.result.requests_csv);
  EXPECT_EQ(direct.result.summary.dump(), routed.result.summary.dump());
}

// Conservation with 3 replicas for every registered router: 300 requests of mixed lengths and
// shared prefixes on small KV caches (preemptions happen). Expect: arrived = finished + rejected
// = 300; the replicas' request, finished and output-token counts add up to the totals.
class DpConservation : public ::testing::TestWithParam<std::string> {};

TEST_P(DpConservation, EveryArrivedRequestFinishesOrIsRejectedAcrossThreeReplicas) {
  std::vector<RequestSpec> requests;
  uint64_t state = 12345;
  auto next = [&](int64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int64_t>((state >> 33) % static_cast<uint64_t>(bound));
  };
  double t = 0.0;
  for (int i = 0; i < 300; ++i) {
    t += 0.001 * static_cast<double>(next(20));
    const int64_t input = 1 + next(900);
    requests.push_back(request(t, input, 1 + next(60), prefix(1000 * next(4), (input + 15) / 16)));
  }
  requests.push_back(request(t, 3000, 10));  // larger than a replica's KV: rejected
  ServingInputs inputs;
  inputs.oversize_is_error = false;
  DpRun run = simulate(requests, 3, GetParam(), 2048, inputs);
  EXPECT_EQ(run.result.arrived, 301);
  EXPECT_EQ(run.result.finished + run.result.rejected, 301);
  EXPECT_EQ(run.result.rejected, 1);
  EXPECT_GT(run.result.summary["preemptions"].get<int64_t>(), 0);
  int64_t arrived = 0, finished = 0, output = 0;
  for (int replica = 0; replica < 3; ++replica) {
    arrived += replica_count(run, replica, "requests");
    finished += replica_count(run, replica, "finished");
    output += replica_count(run, replica, "output_tokens");
  }
  EXPECT_EQ(arrived, 301);
  EXPECT_EQ(finished, run.result.finished);
  int64_t expected_output = 0;
  for (const auto& row : run.rows) {
    if (row.at(1) == "finished") expected_output += std::stoll(row.at(4));
  }
  EXPECT_EQ(output, expected_output);
  EXPECT_EQ(run.rows.size(), 301u);
}

std::string test_name(const ::testing::TestParamInfo<std::string>& param) {
  std::string name = param.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllRouters, DpConservation, ::testing::ValuesIn(Registry<Router>::instance().names()),
                         test_name);

}  // namespace
}  // namespace servesim

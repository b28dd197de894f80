// Claims about prefill/decode disaggregation, with closed-form oracles. The
// execution model is the affine fake (an iteration takes kFixed + kPerToken x
// tokens computed): a request alone on a prefill replica gets its first token
// after kFixed + input x kPerToken; its KV (input x KV bytes per token) then
// crosses the KV link (bytes / bandwidth + latency); each later token takes
// kFixed + kPerToken on the decode replica.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/cache/kv_cache.h"
#include "models/router/router.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"

namespace servesim {
namespace {

using testing::AffineModel;
using testing::kFixed;
using testing::kPerToken;
using testing::request;
using testing::VectorSource;

constexpr double kKvBytesPerToken = 1e5;
constexpr double kLinkBytesPerS = 1e10;
constexpr double kLinkLatencyS = 1e-3;

std::unique_ptr<KvCache> cache(int64_t capacity_tokens, bool prefix_caching = false) {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (spec.name == "prefix_caching") spec.default_text = prefix_caching ? "true" : "false";
    if (spec.name == "preemption") spec.default_text = "\"recompute\"";
  }
  return entry->factory(default_params(specs), capacity_tokens);
}

struct Pools {
  int prefill = 1;
  int decode = 1;
  int64_t prefill_kv_tokens = 1 << 20;
  int64_t decode_kv_tokens = 1 << 20;
  bool prefix_caching = false;
};

ServingResult simulate(std::vector<RequestSpec> requests, const Pools& pools, bool timeline = false) {
  std::vector<std::unique_ptr<AffineModel>> models;
  std::vector<std::unique_ptr<Scheduler>> schedulers;
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<ReplicaParts> parts;
  const auto* vllm = Registry<Scheduler>::instance().find("vllm");
  for (int i = 0; i < pools.prefill + pools.decode; ++i) {
    models.push_back(std::make_unique<AffineModel>());
    schedulers.push_back(vllm->factory(default_params(vllm->info.params)));
    caches.push_back(cache(i < pools.prefill ? pools.prefill_kv_tokens : pools.decode_kv_tokens, pools.prefix_caching));
    parts.push_back(ReplicaParts{models.back().get(), schedulers.back().get(), caches.back().get(), i < pools.prefill ? 2 : 1});
  }
  const auto* least_loaded = Registry<Router>::instance().find("least-loaded");
  std::unique_ptr<Router> router = least_loaded->factory(default_params(least_loaded->info.params));
  VectorSource source(std::move(requests));
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = kKvBytesPerToken;
  inputs.disaggregation.prefill_replicas = pools.prefill;
  inputs.disaggregation.kv_link_bytes_per_s = kLinkBytesPerS;
  inputs.disaggregation.kv_link_latency_s = kLinkLatencyS;
  inputs.oversize_is_error = false;
  inputs.timeline = timeline;
  return run_serving(inputs, parts, router.get(), source);
}

// One request, 1000 prompt tokens, 3 output tokens: token 1 on the prefill
// replica at kFixed + 1000 kPerToken; the 1e8 B of KV arrive 1e8 / 1e10 + 1 ms
// later; tokens 2 and 3 each take kFixed + kPerToken on the decode replica.
TEST(Disaggregation, OneRequestPaysPrefillThenTheKvTransferThenDecode) {
  const ServingResult r = simulate({request(0.0, 1000, 3)}, Pools{});
  const nlohmann::ordered_json& s = r.summary;
  const double first = kFixed + 1000 * kPerToken;
  const double transfer = 1000 * kKvBytesPerToken / kLinkBytesPerS + kLinkLatencyS;
  const double decode = kFixed + kPerToken;
  EXPECT_NEAR(s["ttft_s"]["mean"].get<double>(), first, 1e-9);
  EXPECT_NEAR(s["e2e_s"]["mean"].get<double>(), first + transfer + 2 * decode, 1e-9);
  // TPOT = (e2e - TTFT) / (output - 1): the transfer is part of the first gap.
  EXPECT_NEAR(s["tpot_s"]["mean"].get<double>(), (transfer + 2 * decode) / 2, 1e-9);
  const auto& d = s["disaggregation"];
  EXPECT_EQ(d["kv_transfers"], 1);
  EXPECT_DOUBLE_EQ(d["kv_transfer_bytes"].get<double>(), 1000 * kKvBytesPerToken);
  EXPECT_NEAR(d["kv_transfer_s_mean"].get<double>(), transfer, 1e-9);
  EXPECT_NEAR(d["kv_wait_s_max"].get<double>(), 0.0, 1e-12);
  EXPECT_EQ(s["replicas"][0]["role"], "prefill");
  EXPECT_EQ(s["replicas"][0]["handed_off"], 1);
  EXPECT_EQ(s["replicas"][1]["role"], "decode");
  EXPECT_EQ(s["replicas"][1]["received"], 1);
  // 2 GPUs on the prefill replica + 1 on the decode one: throughput per GPU divides by 3.
  EXPECT_NEAR(s["throughput"]["output_tokens_per_s_per_gpu"].get<double>(),
              3.0 / (first + transfer + 2 * decode) / 3.0, 1e-9);
  EXPECT_EQ(r.requests_csv.substr(r.requests_csv.find('\n') + 1, 2), "0,");
  EXPECT_NE(r.requests_csv.find(",1\n"), std::string::npos);  // finished on replica 1 (decode)
}

// A request with one output token never leaves its prefill replica.
TEST(Disaggregation, OneOutputTokenFinishesOnThePrefillReplica) {
  const ServingResult r = simulate({request(0.0, 500, 1)}, Pools{});
  EXPECT_NEAR(r.summary["e2e_s"]["mean"].get<double>(), kFixed + 500 * kPerToken, 1e-9);
  EXPECT_EQ(r.summary["disaggregation"]["kv_transfers"], 0);
  EXPECT_EQ(r.summary["requests"]["finished"], 1);
}

// Back-pressure: the decode replica's KV holds one prompt at a time (1024 tokens
// in 16-token blocks, prompts of 1000 with 16 output tokens), so the second
// request's KV waits on its prefill replica until the first request finishes
// decoding and frees the decode replica's blocks.
TEST(Disaggregation, KvWaitsForRoomOnTheDecodeReplica) {
  Pools pools;
  pools.decode_kv_tokens = 1024 + 16;
  const ServingResult r = simulate({request(0.0, 1000, 16), request(0.0, 1000, 16)}, pools);
  const auto& d = r.summary["disaggregation"];
  EXPECT_EQ(r.summary["requests"]["finished"], 2);
  EXPECT_EQ(d["kv_transfers"], 2);
  EXPECT_GT(d["kv_wait_s_max"].get<double>(), 15 * (kFixed + kPerToken) - 1e-9);
}

// A request whose prompt + output does not fit a decode replica's KV is rejected at arrival.
TEST(Disaggregation, RequestTooLargeForTheDecodeReplicasIsRejectedAtArrival) {
  Pools pools;
  pools.decode_kv_tokens = 512;
  const ServingResult r = simulate({request(0.0, 400, 200), request(0.0, 300, 100)}, pools);
  EXPECT_EQ(r.summary["requests"]["rejected"], 1);
  EXPECT_EQ(r.summary["requests"]["finished"], 1);
  EXPECT_NE(r.summary["requests"]["first_rejection"].get<std::string>().find("a decode replica's KV cache holds 512"),
            std::string::npos);
}

// Conservation under load on 2 prefill + 3 decode replicas with small caches
// (decode replicas preempt and re-prefill): every request finishes, every
// multi-token one crosses the KV link once and each replica's counts add up.
TEST(Disaggregation, EveryRequestFinishesAndEveryHandoffIsReceived) {
  Pools pools;
  pools.prefill = 2;
  pools.decode = 3;
  pools.prefill_kv_tokens = 8192;
  pools.decode_kv_tokens = 6000;
  pools.prefix_caching = true;
  std::vector<RequestSpec> requests = testing::pressure_requests();
  requests.resize(600);
  int64_t multi_token = 0;
  for (const RequestSpec& q : requests) multi_token += q.output_tokens > 1 && q.input_tokens + q.output_tokens - 1 <= 6000;
  const ServingResult r = simulate(requests, pools);
  const auto& s = r.summary;
  EXPECT_EQ(s["requests"]["finished"].get<int64_t>() + s["requests"]["rejected"].get<int64_t>(), 600);
  EXPECT_EQ(s["disaggregation"]["kv_transfers"].get<int64_t>(), multi_token);
  int64_t handed = 0, received = 0, finished = 0;
  for (const auto& replica : s["replicas"]) {
    if (replica["role"] == "prefill") handed += replica["handed_off"].get<int64_t>();
    if (replica["role"] == "decode") {
      received += replica["received"].get<int64_t>();
      EXPECT_EQ(replica["requests"], 0);
    }
    finished += replica["finished"].get<int64_t>();
  }
  EXPECT_EQ(handed, multi_token);
  EXPECT_EQ(received, multi_token);
  int64_t decode_preemptions = 0;
  for (const auto& replica : s["replicas"]) {
    if (replica["role"] == "decode") decode_preemptions += replica["preemptions"].get<int64_t>();
  }
  EXPECT_GT(decode_preemptions, 0);
  EXPECT_EQ(finished, s["requests"]["finished"].get<int64_t>());
}

// The timeline shows each KV transfer on its decode replica; transfers in flight
// together (two prefill replicas finishing at once) get lanes of their own, so
// no two spans of one lane overlap.
TEST(Disaggregation, TimelineShowsEachTransferInALaneOfItsOwn) {
  Pools pools;
  pools.prefill = 2;
  const ServingResult r = simulate({request(0.0, 1000, 4), request(0.0, 1000, 4), request(0.5, 800, 4)}, pools, true);
  const nlohmann::json doc = nlohmann::json::parse(r.timeline_json);
  std::map<std::pair<int, int>, std::vector<std::pair<double, double>>> lanes;
  int spans = 0;
  for (const auto& event : doc["traceEvents"]) {
    if (event.value("name", "") != "kv transfer") continue;
    ++spans;
    EXPECT_EQ(event["pid"], 2);  // the decode replica
    lanes[{event["pid"].get<int>(), event["tid"].get<int>()}].emplace_back(event["ts"].get<double>(),
                                                                           event["ts"].get<double>() + event["dur"].get<double>());
  }
  EXPECT_EQ(spans, 3);
  EXPECT_EQ(lanes.size(), 2u);  // the first two overlap, the third reuses lane 0
  for (auto& [lane, intervals] : lanes) {
    std::sort(intervals.begin(), intervals.end());
    for (std::size_t i = 1; i < intervals.size(); ++i) EXPECT_LE(intervals[i - 1].second, intervals[i].first);
  }
}

}  // namespace
}  // namespace servesim

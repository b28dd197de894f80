// Claims about the KV offload tier with closed-form oracles. The execution model is the affine
// fake (kFixed + kPerToken x tokens computed per iteration); KV is 131072 B per token and
// 16-token blocks, so one block is 2 MiB.
//
// The common scenario: a GPU cache of 5 blocks (80 tokens).
//   A at t = 0: 48-token prompt with prefix hashes {1, 2, 3}, 2 outputs; publishes 3 blocks.
//   C at t = 1: 80 unrelated tokens, 1 output; takes all 5 blocks, evicting A's 3 cached blocks.
//   B at t = 2: 64-token prompt with hashes {1, 2, 3, 4}, 2 outputs. Nothing of it is left on the
//   GPU; at most (64 - 1) / 16 = 3 blocks can be reused (one token is always computed).
// The replica is idle at t = 1 and t = 2 (every iteration is far shorter than a second).
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/cache/offload_tier.h"
#include "models/scheduler/scheduler.h"
#include "sim/core/registry.h"
#include "sim/serving/serving_run.h"
#include "tests/serving/serving_fixtures.h"
#include "workloads/generator.h"

namespace servesim {

// Test names print the tier by name.
void PrintTo(OffloadTierKind tier, std::ostream* os) { *os << offload_tier_name(tier); }

namespace {

using testing::AffineModel;
using testing::kFixed;
using testing::kPerToken;
using testing::request;
using testing::VectorSource;

constexpr double kKvBytesPerToken = 131072.0;
constexpr double kH2d = 20e9, kD2h = 10e9, kLinkLatency = 5e-6;

std::unique_ptr<KvCache> paged_cache(int64_t capacity_tokens, const std::string& preemption = "recompute") {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  auto specs = entry->info.params;
  for (ParamSpec& spec : specs) {
    if (spec.name == "preemption") spec.default_text = "\"" + preemption + "\"";
  }
  return entry->factory(default_params(specs), capacity_tokens);
}

ServingInputs with_tier(OffloadTierKind tier, int64_t capacity_blocks) {
  ServingInputs inputs;
  inputs.kv_bytes_per_token_replica = kKvBytesPerToken;
  inputs.host_link = {"test-link", kH2d, kD2h, kLinkLatency};
  inputs.host_memory_bytes = 1e12;
  inputs.offload.tier = tier;
  inputs.offload.capacity_blocks = capacity_blocks;
  inputs.offload.cxl = {1e12, 8e9, 250e-9};
  inputs.offload.ssd = {4e12, 5e9, 2e9};
  return inputs;
}

struct ScenarioResult {
  ServingResult result;
  double ttft_b = 0.0;
  int64_t hit_tokens_b = 0;
};

// Runs the common scenario and returns B's TTFT and prefix-hit tokens (from requests.csv).
ScenarioResult run_scenario(ServingInputs inputs) {
  RequestSpec a = request(0.0, 48, 2, {1, 2, 3});
  RequestSpec c = request(1.0, 80, 1);
  RequestSpec b = request(2.0, 64, 2, {1, 2, 3, 4});
  AffineModel model;
  const auto* entry = Registry<Scheduler>::instance().find("vllm");
  auto scheduler = entry->factory(default_params(entry->info.params));
  auto kv = paged_cache(80);
  VectorSource source({a, c, b});
  ScenarioResult out;
  out.result = run_serving(inputs, model, *scheduler, *kv, source);
  // Row of request 2 (B); columns: ..., ttft_s is the 10th, prefix_hit_tokens the 16th.
  const std::string& csv = out.result.requests_csv;
  std::size_t start = csv.find("\n2,");
  EXPECT_NE(start, std::string::npos);
  std::vector<std::string> fields;
  std::string line = csv.substr(start + 1, csv.find('\n', start + 1) - start - 1);
  for (std::size_t p = 0;;) {
    const std::size_t comma = line.find(',', p);
    fields.push_back(line.substr(p, comma == std::string::npos ? std::string::npos : comma - p));
    if (comma == std::string::npos) break;
    p = comma + 1;
  }
  out.ttft_b = std::stod(fields.at(9));
  out.hit_tokens_b = std::stoll(fields.at(15));
  return out;
}

// Host tier: A's 3 blocks are written to host DRAM when C evicts them; B loads all 3 (48 tokens)
// over H2D and prefills only its last 16 tokens.
// Expect: TTFT_B = latency + 48 x 131072 B / H2D + (kFixed + 16 kPerToken); 48 hit tokens; 6 MiB
// loaded. Stored: A's 3 blocks, then C's own 5 (every full block has a hash), which B evicts as
// its prompt and then its output grow: 8 blocks (16 MiB).
TEST(KvOffload, PrefixEvictedFromTheGpuButKeptInHostMemoryIsLoadedNotRecomputed) {
  const ScenarioResult run = run_scenario(with_tier(OffloadTierKind::kHost, 1000));
  const double bytes = 48 * kKvBytesPerToken;
  EXPECT_NEAR(run.ttft_b, kLinkLatency + bytes / kH2d + kFixed + 16 * kPerToken, 1e-9);
  EXPECT_EQ(run.hit_tokens_b, 48);
  const auto& o = run.result.summary["offload"];
  EXPECT_EQ(o["tier"], "host");
  EXPECT_EQ(o["stored_blocks"].get<int64_t>(), 8);
  EXPECT_EQ(o["hit_tokens"].get<int64_t>(), 48);
  EXPECT_DOUBLE_EQ(o["load_bytes"].get<double>(), bytes);
  EXPECT_DOUBLE_EQ(o["store_bytes"].get<double>(), 8 * 16 * kKvBytesPerToken);
  EXPECT_EQ(run.result.finished, 3);
}

// The host tier on a one-node cluster, the replica on 2 GPUs: each GPU holds half of the KV and loads its
// half over its own host link, in parallel. Expect: TTFT_B = latency + (bytes / 2) / H2D + compute.
TEST(KvOffload, OnAClusterEachGpuLoadsItsShareOverItsOwnHostLink) {
  ServingInputs inputs = with_tier(OffloadTierKind::kHost, 1000);
  ClusterSpec cluster;
  cluster.node.gpus_per_node = 2;
  cluster.node.fabric.bytes_per_s = 400e9;
  cluster.node.host_link = inputs.host_link;
  cluster.nodes = 1;
  inputs.cluster = &cluster;
  inputs.placement = {{0, 1}};
  inputs.gpus = 2;
  const ScenarioResult run = run_scenario(inputs);
  const double bytes = 48 * kKvBytesPerToken;
  EXPECT_NEAR(run.ttft_b, kLinkLatency + bytes / 2 / kH2d + kFixed + 16 * kPerToken, 1e-9);
  EXPECT_EQ(run.hit_tokens_b, 48);
}

// The same scenario without an offload tier: B finds nothing and prefills its whole prompt.
// Expect: TTFT_B = kFixed + 64 kPerToken, no prefix hits, no "offload" object in the summary.
TEST(KvOffload, WithoutATierTheEvictedPrefixIsRecomputed) {
  ServingInputs inputs = with_tier(OffloadTierKind::kHost, 0);
  const ScenarioResult run = run_scenario(inputs);
  EXPECT_NEAR(run.ttft_b, kFixed + 64 * kPerToken, 1e-12);
  EXPECT_EQ(run.hit_tokens_b, 0);
  EXPECT_FALSE(run.result.summary.contains("offload"));
}

// SSD tier: the load reads the blocks from the disk (no latency in the disk model) and then
// crosses H2D. The disk reads at 50 GB/s here, so the read (0.13 ms) is over before the blocks of C
// that B's allocation evicts reach the disk (0.84 ms over D2H) and shares it with no write.
// Expect: TTFT_B = bytes / SSD read + latency + bytes / H2D + (kFixed + 16 kPerToken).
TEST(KvOffload, SsdTierLoadCostsADiskReadThenTheHostLink) {
  ServingInputs inputs = with_tier(OffloadTierKind::kSsd, 1000);
  inputs.offload.ssd.read_bytes_per_s = 50e9;
  const ScenarioResult run = run_scenario(inputs);
  const double bytes = 48 * kKvBytesPerToken;
  EXPECT_NEAR(run.ttft_b,
              bytes / inputs.offload.ssd.read_bytes_per_s + kLinkLatency + bytes / kH2d + kFixed + 16 * kPerToken,
              1e-9);
  EXPECT_EQ(run.hit_tokens_b, 48);
  EXPECT_EQ(run.result.summary["offload"]["tier"], "ssd");
}

// CXL tier: the load crosses the CXL link then H2D as one pipelined flow: the slower CXL link
// (8 GB/s) sets the rate and both latencies add. Expect: TTFT_B = 250 ns + 5 us + bytes / 8 GB/s
// + (kFixed + 16 kPerToken).
TEST(KvOffload, CxlTierLoadCrossesTheCxlLinkThenTheHostLink) {
  const ServingInputs inputs = with_tier(OffloadTierKind::kCxl, 1000);
  const ScenarioResult run = run_scenario(inputs);
  const double bytes = 48 * kKvBytesPerToken;
  EXPECT_NEAR(run.ttft_b,
              inputs.offload.cxl.latency_s + kLinkLatency + bytes / inputs.offload.cxl.bytes_per_s + kFixed +
                  16 * kPerToken,
              1e-9);
  EXPECT_EQ(run.hit_tokens_b, 48);
}

// Two CXL expanders of 4 GB/s per node: blocks are striped over both, so the load streams at their
// sum. Expect: the same TTFT_B as one 8 GB/s expander, 250 ns + 5 us + bytes / (2 x 4 GB/s) + compute.
TEST(KvOffload, StripedCxlExpandersLoadAtTheSumOfTheirBandwidths) {
  ServingInputs inputs = with_tier(OffloadTierKind::kCxl, 1000);
  inputs.offload.cxl.bytes_per_s = 4e9;
  inputs.offload.cxl.devices = 2;
  const double bytes = 48 * kKvBytesPerToken;
  EXPECT_NEAR(run_scenario(inputs).ttft_b,
              inputs.offload.cxl.latency_s + kLinkLatency + bytes / 8e9 + kFixed + 16 * kPerToken, 1e-9);
}

// Two SSDs of 25 GB/s read as one of 50 GB/s (the SSD case above).
TEST(KvOffload, StripedSsdsReadAtTheSumOfTheirBandwidths) {
  const double bytes = 48 * kKvBytesPerToken;
  ServingInputs ssd = with_tier(OffloadTierKind::kSsd, 1000);
  ssd.offload.ssd.read_bytes_per_s = 25e9;
  ssd.offload.ssd.devices = 2;
  EXPECT_NEAR(run_scenario(ssd).ttft_b, bytes / 50e9 + kLinkLatency + bytes / kH2d + kFixed + 16 * kPerToken, 1e-9);
}

// A tier of 2 blocks: A's blocks are evicted from the GPU in the order 3, 2, 1 (a sequence's tail
// is freed first) in one scheduling step, so the tier keeps the 2 most recent, blocks 1 and 2;
// block 3 would be dropped at once and is never written.
// Expect: B loads 2 blocks (32 tokens) and prefills 32: TTFT_B = latency + 32 x 131072 B / H2D
// + (kFixed + 32 kPerToken); 2 resident. Stored: those 2, then C's 5 blocks (every full block has
// a hash) as B evicts them: 2 at its admission, 2 when its prefill runs after the load, 1 when its
// output grows; 7 blocks in all.
TEST(KvOffload, TierCapacityIsRespectedByDroppingTheLeastRecentlyUsedBlock) {
  const ScenarioResult run = run_scenario(with_tier(OffloadTierKind::kHost, 2));
  const double bytes = 32 * kKvBytesPerToken;
  EXPECT_NEAR(run.ttft_b, kLinkLatency + bytes / kH2d + kFixed + 32 * kPerToken, 1e-9);
  EXPECT_EQ(run.hit_tokens_b, 32);
  const auto& o = run.result.summary["offload"];
  EXPECT_EQ(o["capacity_blocks"].get<int64_t>(), 2);
  EXPECT_EQ(o["stored_blocks"].get<int64_t>(), 7);
  EXPECT_EQ(o["resident_blocks"].get<int64_t>(), 2);
  EXPECT_DOUBLE_EQ(o["store_bytes"].get<double>(), 7 * 16 * kKvBytesPerToken);
}

// The tier on its own: LRU order, refresh on lookup hits, prefix lookups stop at the first miss.
TEST(KvOffloadTier, KeepsTheMostRecentlyUsedBlocksAndStopsPrefixLookupsAtTheFirstMiss) {
  KvOffloadTier tier(2);
  tier.insert(10);
  tier.insert(11);
  const uint64_t first[] = {10};
  tier.touch(first, 1);  // 10 is now the most recent: inserting 12 drops 11
  tier.insert(12);
  EXPECT_TRUE(tier.contains(10));
  EXPECT_FALSE(tier.contains(11));
  EXPECT_TRUE(tier.contains(12));
  const uint64_t prefix[] = {10, 12, 11, 12};
  EXPECT_EQ(tier.prefix_length(prefix, 4, 10), 2);
  EXPECT_EQ(tier.prefix_length(prefix, 4, 1), 1);
  EXPECT_EQ(tier.stats().stored_blocks, 3);
  EXPECT_EQ(tier.stats().evicted_blocks, 1);
  EXPECT_EQ(tier.resident_blocks(), 2);
}

// Conservation under pressure with offload on: 2000 generated requests sharing prefixes
// (5 common first blocks), a small GPU cache, each scheduler, both preemption modes and each tier.
// Expect: arrived = finished + rejected, every request is in requests.csv, and the tier is used.
class OffloadConservation
    : public ::testing::TestWithParam<std::tuple<std::string, std::string, OffloadTierKind>> {};

TEST_P(OffloadConservation, EveryArrivedRequestFinishesOrIsRejected) {
  const auto& [scheduler_name, preemption, tier] = GetParam();
  std::vector<RequestSpec> requests = testing::pressure_requests();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    requests[i].prefix_hashes = {static_cast<int64_t>(i % 5), static_cast<int64_t>(i % 7),
                                 static_cast<int64_t>(i)};
    requests[i].hash_block_tokens = 64;
  }
  ServingInputs inputs = with_tier(tier, 64);
  inputs.oversize_is_error = false;
  inputs.host_memory_bytes = 2e9;
  for (std::size_t i = 0; i < requests.size(); ++i) requests[i].priority = static_cast<int64_t>(i % 3);
  AffineModel model;
  const auto* entry = Registry<Scheduler>::instance().find(scheduler_name);
  auto scheduler = entry->factory(default_params(entry->info.params));
  auto kv = paged_cache(4096, preemption);
  VectorSource source(requests);
  const ServingResult result = run_serving(inputs, model, *scheduler, *kv, source);
  EXPECT_EQ(result.arrived, 2000);
  EXPECT_EQ(result.finished + result.rejected, result.arrived);
  const std::string& csv = result.requests_csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n') - 1, result.arrived);
  const auto& o = result.summary["offload"];
  EXPECT_GT(o["hit_tokens"].get<int64_t>(), 0);
  EXPECT_LE(o["hit_tokens"].get<int64_t>(), result.summary["prefix_hit_tokens"].get<int64_t>());
  EXPECT_LE(o["resident_blocks"].get<int64_t>(), 64);
  EXPECT_GT(result.summary["preemptions"].get<int64_t>(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllSchedulersEachTier, OffloadConservation,
                         ::testing::Combine(::testing::Values("vllm", "sarathi", "orca", "prefill-first", "priority"),
                                            ::testing::Values("recompute", "swap"),
                                            ::testing::Values(OffloadTierKind::kHost, OffloadTierKind::kCxl,
                                                              OffloadTierKind::kSsd)),
                         [](const auto& param_info) {
                           std::string name = std::get<0>(param_info.param) + "_" + std::get<1>(param_info.param) +
                                              "_" + offload_tier_name(std::get<2>(param_info.param));
                           for (char& c : name) c = (c == '-') ? '_' : c;
                           return name;
                         });

}  // namespace
}  // namespace servesim

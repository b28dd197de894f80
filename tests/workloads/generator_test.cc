// Claims about the generators' shared prefixes and multi-turn sessions: a prefix group's requests
// all start with its prefix, described the way the JSONL prefix_group is; a session's turn k + 1
// carries turn k's prompt and answer; the stream stays in arrival order while sessions interleave;
// prefix popularity and turn counts follow their distributions; contradictory keys are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include "sim/core/config_error.h"
#include "sim/core/registry.h"
#include "traces/trace_source.h"
#include "workloads/generator.h"

namespace servesim {
namespace {

GeneratorParams fixed_lengths(int64_t input, int64_t output, int64_t requests) {
  GeneratorParams p;
  p.rate_per_s = 1.0;
  p.num_requests = requests;
  p.seed = 7;
  p.input = LengthDistribution{LengthShape::kFixed, input, 1, 1, 0.0, 0.0};
  p.output = LengthDistribution{LengthShape::kFixed, output, 1, 1, 0.0, 0.0};
  return p;
}

// Input: one group of 1,024 tokens, inputs of 100. Expect: every prompt is 1,124 tokens whose
// first 1,024 are described by one hash of the group, as set_prefix_group describes a JSONL
// "prefix_group": G, "prefix_tokens": 1024 record; no request is part of a session.
TEST(GeneratorSharing, EveryRequestOfAPrefixGroupStartsWithItsPrefix) {
  GeneratorParams p = fixed_lengths(100, 5, 50);
  p.sharing.prefix_groups = 1;
  p.sharing.prefix_tokens = 1024;
  auto source = make_generator(p, "g");
  RequestSpec r, first;
  ASSERT_TRUE(source->next(first));
  int64_t n = 1;
  while (source->next(r)) {
    EXPECT_EQ(r.input_tokens, 1124);
    EXPECT_EQ(r.hash_block_tokens, 1024);
    EXPECT_EQ(r.prefix_hashes, first.prefix_hashes);
    EXPECT_EQ(r.session, 0u);
    ++n;
  }
  EXPECT_EQ(n, 50);
  ASSERT_EQ(first.prefix_hashes.size(), 1u);
}

// Input: sessions of exactly 3 turns, inputs 100, outputs 20, think time 30 s. Expect: turn k's
// prompt is 100 + (k - 1) x (100 + 20) tokens (100, 220, 340), each session's turns arrive in
// order under one session id, and the merged stream is in arrival order.
TEST(GeneratorSharing, ATurnCarriesThePreviousTurnsPromptAndAnswer) {
  GeneratorParams p = fixed_lengths(100, 20, 300);
  p.rate_per_s = 0.5;
  p.sharing.turns = 3;
  p.sharing.think_time_s = 30.0;
  auto source = make_generator(p, "g");
  std::map<uint64_t, std::pair<int, double>> seen;  // session -> (turns seen, last arrival)
  RequestSpec r;
  double last = 0.0;
  int64_t n = 0;
  while (source->next(r)) {
    ++n;
    EXPECT_GE(r.arrival_s, last);
    last = r.arrival_s;
    ASSERT_NE(r.session, 0u);
    auto& [turns, previous] = seen[r.session];
    EXPECT_EQ(r.input_tokens, 100 + turns * 120) << "session " << r.session << " turn " << turns + 1;
    if (turns > 0) EXPECT_GT(r.arrival_s, previous);
    ++turns;
    previous = r.arrival_s;
  }
  EXPECT_EQ(n, 300);
  // No session has more than 3 turns, so 300 requests come from at least 100 sessions; the cap
  // cuts the sessions still in flight short (those started in about the last two think times).
  EXPECT_GE(seen.size(), 100u);
  int complete = 0;
  for (const auto& [session, state] : seen) {
    EXPECT_LE(state.first, 3);
    complete += state.first == 3;
  }
  EXPECT_GT(complete, 50);
}

// Input: 10 groups with Zipf s = 1, 20,000 single-turn requests. Expect: group k's share is
// (1/(k+1)) / H_10 (H_10 = 2.929): group 0 about 34.1 %, group 9 about 3.4 % (within 10 %).
TEST(GeneratorSharing, PrefixPopularityFollowsTheZipfWeights) {
  GeneratorParams p = fixed_lengths(10, 1, 20000);
  p.sharing.prefix_groups = 10;
  p.sharing.prefix_tokens = 64;
  p.sharing.prefix_zipf = 1.0;
  auto source = make_generator(p, "g");
  std::map<int64_t, int64_t> count;
  RequestSpec r;
  while (source->next(r)) ++count[r.prefix_hashes.at(0)];
  ASSERT_EQ(count.size(), 10u);
  double harmonic = 0.0;
  for (int k = 1; k <= 10; ++k) harmonic += 1.0 / k;
  int64_t largest = 0, smallest = 1 << 30;
  for (const auto& [group, c] : count) {
    largest = std::max(largest, c);
    smallest = std::min(smallest, c);
  }
  EXPECT_NEAR(static_cast<double>(largest) / 20000.0, 1.0 / harmonic, 0.1 / harmonic);
  EXPECT_NEAR(static_cast<double>(smallest) / 20000.0, 0.1 / harmonic, 0.01 / harmonic);
}

// Input: prefix_fraction 0.25 over 8,000 sessions; geometric turns with mean 4. Expect: about a
// quarter of the first turns start with a prefix, and 8,000 sessions make about 32,000 turns.
TEST(GeneratorSharing, PrefixFractionAndGeometricTurnsHaveTheirMeans) {
  GeneratorParams p = fixed_lengths(10, 1, 0);
  p.duration_s = 8000.0;
  p.sharing.prefix_groups = 3;
  p.sharing.prefix_tokens = 32;
  p.sharing.prefix_fraction = 0.25;
  p.sharing.turns = 4;
  p.sharing.geometric_turns = true;
  p.sharing.think_time_s = 1.0;
  auto source = make_generator(p, "g");
  std::map<uint64_t, int> turns;
  int64_t first_turns = 0, with_prefix = 0, singles = 0;
  RequestSpec r;
  while (source->next(r)) {
    const bool first = r.session == 0 || turns[r.session]++ == 0;
    if (r.session == 0) ++singles;
    if (first) {
      ++first_turns;
      with_prefix += !r.prefix_hashes.empty();
    }
  }
  EXPECT_NEAR(static_cast<double>(with_prefix) / static_cast<double>(first_turns), 0.25, 0.02);
  int64_t total_turns = singles;
  for (const auto& [session, n] : turns) total_turns += n;
  EXPECT_NEAR(static_cast<double>(total_turns) / static_cast<double>(first_turns), 4.0, 0.15);
}

std::string error_of(const char* key, ParamValues::Value value, const char* key2 = nullptr,
                     ParamValues::Value value2 = int64_t{0}) {
  const auto* entry = Registry<WorkloadGenerator>::instance().find("poisson");
  ParamValues values = default_params(entry->info.params);
  values.set(key, std::move(value));
  if (key2 != nullptr) values.set(key2, std::move(value2));
  try {
    entry->factory(values, "cfg.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(GeneratorSharing, ContradictoryKeysAreRefusedWithTheirReason) {
  EXPECT_EQ(error_of("prefix_groups", int64_t{4}),
            "cfg.json: /workload/generator: prefix_groups needs prefix_tokens (the prefix length)");
  EXPECT_EQ(error_of("prefix_tokens", int64_t{512}),
            "cfg.json: /workload/generator: prefix_tokens needs prefix_groups (how many prefixes)");
  EXPECT_EQ(error_of("prefix_zipf", 1.0), "cfg.json: /workload/generator: prefix_fraction and prefix_zipf need prefix_groups");
  EXPECT_EQ(error_of("think_time", 5.0), "cfg.json: /workload/generator: think_time needs turns > 1");
  EXPECT_EQ(error_of("turns", int64_t{3}),
            "cfg.json: /workload/generator: turns > 1 needs a think_time > 0 (every turn would arrive with the first)");
  EXPECT_EQ(error_of("turns_dist", std::string("geometric")),
            "cfg.json: /workload/generator: turns_dist geometric needs turns > 1 (its mean)");
  EXPECT_EQ(error_of("turns", int64_t{3}, "think_time", 5.0), "");
}

}  // namespace
}  // namespace servesim

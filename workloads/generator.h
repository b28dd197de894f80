#pragma once
// Contract: synthetic workloads. A generator is a TraceSource that draws
// arrival gaps (Poisson, or Gamma with a coefficient of variation for
// burstiness) at a mean rate and prompt/output lengths from a length
// distribution (fixed, uniform, or lognormal, e.g. fitted to a production
// trace; see workloads/fitted/). It stops after `num_requests` requests or at
// `duration` of simulated time, whichever comes first. Deterministic: the
// same parameters and seed give the same stream, whatever the standard library
// (std::mt19937_64 and the variates of workloads/random_variates.h, never the
// std:: distributions). Lengths are integers >= 1.
//
// Shared content without block hashes: with `prefix_groups` G > 0 a session
// starts, with probability `prefix_fraction`, with the `prefix_tokens` tokens
// of one of G shared prefixes (a system prompt, a few-shot template, a RAG
// document), chosen uniformly or by Zipf popularity (`prefix_zipf`); its drawn
// input follows the prefix. With `turns` > 1 each arrival is a conversation
// (session): turn k + 1 arrives a think time (exponential, mean `think_time`)
// after turn k's arrival, and its prompt is turn k's prompt and answer plus a
// newly drawn input, so it finds turn k's KV blocks. `rate` is the rate of new
// sessions; the stream stays in arrival order (turns of many sessions
// interleave) and holds only the sessions with turns still to come. The
// generator is open loop: think time counts from the previous turn's arrival,
// not from when its answer came (a closed loop is not modelled).

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "sim/core/params.h"
#include "traces/trace_source.h"

namespace servesim {

class WorkloadGenerator {
 public:
  static constexpr const char* kInterfaceName = "workload-generator";
  static constexpr const char* kInterfaceSummary =
      "synthetic arrivals and lengths (\"workload\": {\"generator\": {\"impl\": NAME, ...}})";
  using Factory = std::function<std::unique_ptr<TraceSource>(const ParamValues&, const std::string& origin)>;
};

enum class LengthShape { kFixed, kUniform, kLognormal };

/// One length distribution; lognormal draws exp(N(mu, sigma)) rounded and clipped to [min, max].
struct LengthDistribution {
  LengthShape shape = LengthShape::kFixed;
  int64_t fixed = 0;
  int64_t min = 1;
  int64_t max = 1;
  double mu = 0.0;
  double sigma = 0.0;
  int64_t draw(std::mt19937_64& rng) const;
};

/// Shared prefixes and multi-turn sessions (all off by default).
struct SharingParams {
  int64_t prefix_groups = 0;     // 0 = no shared prefixes
  int64_t prefix_tokens = 0;     // tokens of each group's prefix
  double prefix_fraction = 1.0;  // share of sessions that start with a group's prefix
  double prefix_zipf = 0.0;      // popularity skew of the groups (0 = uniform)
  int64_t turns = 1;             // turns per session (mean when geometric)
  bool geometric_turns = false;  // turns ~ Geometric with mean `turns`, else exactly `turns`
  double think_time_s = 0.0;     // mean gap between a session's turns (exponential)
};

struct GeneratorParams {
  double rate_per_s = 1.0;
  double cv = 1.0;  // 1 = Poisson
  int64_t num_requests = 0;
  double duration_s = 0.0;  // 0 = no limit
  uint64_t seed = 0;
  LengthDistribution input;
  LengthDistribution output;
  SharingParams sharing;
};

/// The common parameters (rate, count, duration, seed, lengths); `with_cv` adds "cv".
ParamSpecs generator_param_specs(bool with_cv);
/// Typed parameters from validated values; throws ConfigError at `origin` when neither
/// num_requests nor duration bounds the stream or a min exceeds its max.
GeneratorParams generator_params(const ParamValues& values, const std::string& origin, bool with_cv);
/// The stream itself.
std::unique_ptr<TraceSource> make_generator(const GeneratorParams& params, const std::string& origin);

}  // namespace servesim

#pragma once
// Test doubles shared by the serving tests: an execution model whose iteration
// time is affine in the tokens computed (so oracles are closed-form), a trace
// source over a vector, and a request builder.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/execution/execution_model.h"
#include "traces/trace_source.h"
#include "workloads/generator.h"

namespace servesim::testing {

constexpr double kFixed = 0.010;    // s per iteration
constexpr double kPerToken = 1e-4;  // s per token computed
constexpr double kEnergy = 2.0;     // J per iteration

/// Iteration time = kFixed + kPerToken x tokens computed; kEnergy joules per iteration.
class AffineModel : public ExecutionModel {
 public:
  IterationPrediction predict(const BatchShape& batch) const override {
    IterationPrediction p;
    p.iteration_s = seconds(batch);
    return p;
  }
  IterationTiming timing(const BatchShape& batch) override { return {seconds(batch), kEnergy}; }
  static double seconds(const BatchShape& batch) {
    int64_t tokens = 0;
    for (const Segment& s : batch.segments) tokens += s.sequences * s.new_tokens;
    return kFixed + kPerToken * static_cast<double>(tokens);
  }
};

/// Requests from a vector, in order.
class VectorSource : public TraceSource {
 public:
  explicit VectorSource(std::vector<RequestSpec> requests) : requests_(std::move(requests)) {}
  bool next(RequestSpec& out) override {
    if (index_ >= requests_.size()) return false;
    out = requests_[index_++];
    return true;
  }
  const std::string& origin() const override { return origin_; }

 private:
  std::vector<RequestSpec> requests_;
  std::size_t index_ = 0;
  std::string origin_ = "test-trace";
};

/// A request; `prefix` hashes cover 16-token blocks.
inline RequestSpec request(double arrival_s, int64_t input, int64_t output, std::vector<int64_t> prefix = {}) {
  RequestSpec r;
  r.arrival_s = arrival_s;
  r.input_tokens = input;
  r.output_tokens = output;
  r.prefix_hashes = std::move(prefix);
  r.hash_block_tokens = r.prefix_hashes.empty() ? 0 : 16;
  return r;
}

/// 2000 bursty requests (Gamma arrivals at 50/s, cv 2; lognormal prompts up to 3000 tokens and
/// outputs up to 600), seed 7: enough to keep a small KV cache under pressure.
inline std::vector<RequestSpec> pressure_requests() {
  GeneratorParams g;
  g.rate_per_s = 50.0;
  g.cv = 2.0;
  g.num_requests = 2000;
  g.seed = 7;
  g.input = {LengthShape::kLognormal, 0, 1, 3000, 5.5, 1.0};
  g.output = {LengthShape::kLognormal, 0, 1, 600, 4.5, 1.0};
  auto source = make_generator(g, "generator");
  std::vector<RequestSpec> requests;
  RequestSpec spec;
  while (source->next(spec)) requests.push_back(spec);
  return requests;
}

}  // namespace servesim::testing

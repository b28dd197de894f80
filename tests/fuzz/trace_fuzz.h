#pragma once
// Shared by the trace fuzz targets: opens the input as a trace of `format` through the registry
// (as `servesim run` does) and reads it to the end, checking what the readers promise of every
// request they return: arrival times finite, from 0 at the first request and never decreasing,
// token counts in [0, kMaxRequestTokens], prefix hashes only with a positive block size.

#include <cmath>
#include <cstdint>
#include <string>

#include "sim/core/config_error.h"
#include "sim/core/params.h"
#include "sim/core/registry.h"
#include "tests/fuzz/fuzz_support.h"
#include "traces/trace_source.h"

namespace servesim::fuzz {

inline void read_whole_trace(const std::string& format, const std::string& path) {
  const auto* entry = Registry<TraceSource>::instance().find(format);
  fuzz_require(entry != nullptr, "trace format not registered");
  try {
    auto source = entry->factory(default_params(entry->info.params), path);
    RequestSpec request;
    double previous_s = 0.0;
    bool first = true;
    for (int records = 0; records < 100000 && source->next(request); ++records) {
      fuzz_require(std::isfinite(request.arrival_s), "arrival time not finite");
      fuzz_require(!first || request.arrival_s == 0.0, "first arrival is not at 0");
      fuzz_require(request.arrival_s >= previous_s, "arrival times decrease");
      fuzz_require(request.input_tokens >= 0 && request.input_tokens <= kMaxRequestTokens, "input tokens out of range");
      fuzz_require(request.output_tokens >= 0 && request.output_tokens <= kMaxRequestTokens,
                   "output tokens out of range");
      fuzz_require(request.prefix_hashes.empty() || request.hash_block_tokens > 0, "hashes without a block size");
      fuzz_require(request.line > 0, "a trace request without its line");
      previous_s = request.arrival_s;
      first = false;
    }
  } catch (const ConfigError&) {
  }
}

}  // namespace servesim::fuzz

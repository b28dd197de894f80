// Fuzz target: the JSON-lines trace readers (traces/impl/jsonl.cc: Mooncake and generic JSONL,
// each record parsed strictly). Each input is read as both; only ConfigError may come out, and
// every request returned keeps the readers' promises (trace_fuzz.h).
#include <cstdint>

#include "tests/fuzz/trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static servesim::fuzz::ScratchFile scratch(".jsonl");
  const std::string& path = scratch.write(data, size);
  servesim::fuzz::read_whole_trace("mooncake", path);
  servesim::fuzz::read_whole_trace("jsonl", path);
  return 0;
}

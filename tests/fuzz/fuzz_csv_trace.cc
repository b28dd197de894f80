// Fuzz target: the CSV trace readers (traces/impl/azure.cc, traces/impl/vidur.cc, through
// traces/trace_source.cc's line reader and field parsers). Each input is read as an Azure trace
// and as a Vidur trace; only ConfigError may come out, and every request returned keeps the
// readers' promises (trace_fuzz.h).
#include <cstdint>

#include "tests/fuzz/trace_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  static servesim::fuzz::ScratchFile scratch(".csv");
  const std::string& path = scratch.write(data, size);
  servesim::fuzz::read_whole_trace("azure", path);
  servesim::fuzz::read_whole_trace("vidur", path);
  return 0;
}

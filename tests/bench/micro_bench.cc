// Hot-path micro-benchmarks (Google Benchmark; not tests): the calls a serving
// simulation makes per iteration or per request. Usage: micro_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "models/cache/kv_cache.h"
#include "models/execution/deployment.h"
#include "sim/config/spec_readers.h"
#include "sim/core/params.h"
#include "sim/core/registry.h"
#include "sim/serving/metrics.h"
#include "sim/core/units.h"

namespace servesim {
namespace {

Deployment deployment(const char* model, int64_t tp) {
  Deployment d;
  d.node = load_node("h100-sxm");
  d.model = load_model(model);
  d.engine = load_engine("vllm");
  d.plan.tp = tp;
  return d;
}

// One iteration's timing: two prefill chunks and an aggregated decode segment.
void BM_IterationTiming(benchmark::State& state, const char* model, int64_t tp) {
  auto execution = make_execution_model(deployment(model, tp));
  BatchShape batch;
  batch.segments = {{1, 512, 1024}, {1, 256, 0}, {64, 1, 1500}};
  int64_t context = 0;
  for (auto _ : state) {
    batch.segments[2].context_tokens = 1000 + (++context & 1023);  // defeat any shape cache
    benchmark::DoNotOptimize(execution->timing(batch));
  }
}
BENCHMARK_CAPTURE(BM_IterationTiming, llama_3_1_8b_tp1, "llama-3.1-8b", 1);
BENCHMARK_CAPTURE(BM_IterationTiming, llama_3_1_70b_tp4, "llama-3.1-70b", 4);

// A request's life in the paged KV cache: grow block by block to 2048 tokens, then release.
void BM_KvCacheGrowAndRelease(benchmark::State& state) {
  const auto* entry = Registry<KvCache>::instance().find("paged");
  auto cache = entry->factory(default_params(entry->info.params), 1 << 20);
  std::vector<int32_t> table;
  for (auto _ : state) {
    for (int64_t tokens = 16; tokens <= 2048; tokens += 16) cache->grow(table, tokens);
    cache->release(table);
  }
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_KvCacheGrowAndRelease);

void BM_InterTokenHistogramAdd(benchmark::State& state) {
  LogHistogram histogram;
  double itl = 0.008;
  for (auto _ : state) {
    histogram.add(itl);
    itl = itl > 0.05 ? 0.008 : itl * 1.001;
  }
  benchmark::DoNotOptimize(histogram.count());
}
BENCHMARK(BM_InterTokenHistogramAdd);

void BM_ParseQuantity(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(parse_quantity("3.35 TB/s", Dimension::kBytesPerSecond));
}
BENCHMARK(BM_ParseQuantity);

}  // namespace
}  // namespace servesim

BENCHMARK_MAIN();

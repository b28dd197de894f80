#include "sim/config/calibration_io.h"

#include <cstdio>
#include <utility>

#include "sim/core/config_error.h"

namespace servesim {
namespace {

std::string with_unit(double value, const char* unit) {
  char text[64];
  std::snprintf(text, sizeof text, "%.6g %s", value, unit);
  return text;
}

constexpr int64_t kMaxBatchTokens = int64_t{1} << 40;

BatchShape read_segments(const ConfigNode& segs, int64_t* tokens) {
  BatchShape batch;
  *tokens = 0;
  if (!segs.is_array()) segs.fail("expected an array of [\"prefill\"|\"decode\", B, S|C] segments");
  for (std::size_t i = 0; i < segs.size(); ++i) {
    ConfigNode seg = segs.element(i);
    if (!seg.is_array() || seg.size() != 3) seg.fail("expected [\"prefill\"|\"decode\", B, S|C]");
    const std::string kind = seg.element(0).as_string();
    const int64_t b = seg.element(1).as_integer(1, 1 << 30);
    const int64_t n = seg.element(2).as_integer(1, 1 << 30);
    if (kind == "prefill") {
      batch.segments.push_back(Segment{b, n, 0});
      *tokens += b * n;
    } else if (kind == "decode") {
      batch.segments.push_back(Segment{b, 1, n});
      *tokens += b;
    } else {
      seg.element(0).fail("expected \"prefill\" or \"decode\"");
    }
    // Each segment is at most 2^60 tokens: a sum kept under 2^40 cannot overflow.
    if (*tokens > kMaxBatchTokens) seg.fail("the batch has more than 2^40 tokens");
  }
  return batch;
}

std::string label_of(const BatchShape& batch) {
  std::string out;
  for (const Segment& s : batch.segments) {
    if (!out.empty()) out += " + ";
    out += s.new_tokens == 1 && s.context_tokens > 0
               ? "decode " + std::to_string(s.sequences) + "x" + std::to_string(s.context_tokens)
               : "prefill " + std::to_string(s.sequences) + "x" + std::to_string(s.new_tokens);
  }
  return out;
}


// The keys of a GEMM curve every dtype's entry has ("gemm", "gemm_fp8"); the caller reads its own
// extras and finishes the node.
GemmCurve read_gemm_curve(ConfigNode& gemm) {
  GemmCurve c;
  c.latency_s = gemm.quantity("latency", Dimension::kSeconds, 0.0, true);
  c.memory_latency_s = gemm.quantity("memory_latency", Dimension::kSeconds, 0.0, true);
  c.flops_per_s = gemm.quantity("rate", Dimension::kFlopsPerSecond);
  c.bytes_per_s = gemm.quantity("bandwidth", Dimension::kBytesPerSecond);
  c.half_tiles = gemm.number("half_tiles", 0.0, 1e9, 0.0);
  c.memory_half_tiles = gemm.number("memory_half_tiles", 0.0, 1e9, 0.0);
  c.overlap = gemm.number("overlap", 0.0, 1.0, 0.0);
  if (gemm.has("measured_shapes")) {
    for (ConfigNode& shape : gemm.array("measured_shapes")) {
      if (!shape.is_array() || shape.size() != 2) shape.fail("expected [N, K]");
      c.measured_shapes.emplace_back(shape.element(0).as_integer(1, int64_t{1} << 40),
                                     shape.element(1).as_integer(1, int64_t{1} << 40));
    }
  }
  c.fixed_term_is_gpu_time = gemm.boolean("gpu_time", false);
  return c;
}

nlohmann::json gemm_curve_json(const GemmCurve& c) {
  nlohmann::json shapes = nlohmann::json::array();
  for (const auto& [n, k] : c.measured_shapes) shapes.push_back({n, k});
  nlohmann::json out = {{"latency", with_unit(c.latency_s * 1e6, "us")},
                        {"memory_latency", with_unit(c.memory_latency_s * 1e6, "us")},
                        {"rate", with_unit(c.flops_per_s / 1e12, "TFLOP/s")},
                        {"bandwidth", with_unit(c.bytes_per_s / 1e12, "TB/s")},
                        {"half_tiles", c.half_tiles},
                        {"memory_half_tiles", c.memory_half_tiles},
                        {"overlap", c.overlap},
                        {"measured_shapes", shapes}};
  // "gpu_time": the fixed term was fitted to CUDA-graph replayed (GPU-only) timings and is kept
  // inside iterations; written only when true.
  if (c.fixed_term_is_gpu_time) out["gpu_time"] = true;
  return out;
}

}  // namespace

GpuEfficiency read_calibration(ConfigNode& node) {
  node.require_object();
  GpuEfficiency eff;
  eff.calibrated = true;
  node.has("gpu");
  node.has("fit_quality");
  node.has("inputs");
  eff.source = node.string("source", "");
  ConfigNode gemm = node.child("gemm");
  const GemmCurve bf16 = read_gemm_curve(gemm);
  eff.gemm_tile_m = gemm.integer("tile_m", 1, 4096, 128);
  eff.gemm_tile_n = gemm.integer("tile_n", 1, 4096, 128);
  gemm.finish();
  eff.gemm_latency_s = bf16.latency_s;
  eff.gemm_memory_latency_s = bf16.memory_latency_s;
  eff.gemm_flops_per_s = bf16.flops_per_s;
  eff.gemm_bytes_per_s = bf16.bytes_per_s;
  eff.gemm_half_tiles = bf16.half_tiles;
  eff.gemm_memory_half_tiles = bf16.memory_half_tiles;
  eff.gemm_overlap = bf16.overlap;
  eff.gemm_measured_shapes = bf16.measured_shapes;
  eff.gemm_fixed_term_is_gpu_time = bf16.fixed_term_is_gpu_time;
  ConfigNode prefill = node.child("attention_prefill");
  eff.attention_prefill_latency_s = prefill.quantity("latency", Dimension::kSeconds, 0.0, true);
  eff.attention_prefill_flops_per_s = prefill.quantity("rate", Dimension::kFlopsPerSecond);
  eff.prefill_attention_fixed_term_is_gpu_time = prefill.boolean("gpu_time", false);
  prefill.finish();
  ConfigNode decode = node.child("attention_decode");
  eff.attention_decode_latency_s = decode.quantity("latency", Dimension::kSeconds, 0.0, true);
  eff.attention_decode_bytes_per_s = decode.quantity("bandwidth", Dimension::kBytesPerSecond);
  eff.attention_decode_sequence_s = decode.quantity("sequence_latency", Dimension::kSeconds, 0.0, true);
  eff.attention_decode_half_heads = decode.number("half_heads", 0.0, 1e9, 0.0);
  eff.decode_attention_fixed_term_is_gpu_time = decode.boolean("gpu_time", false);
  decode.finish();
  if (node.has("gemm_fp8")) {
    // FP8 GEMM curve fitted by `servesim calibrate --fp8` (measured).
    ConfigNode fp8 = node.child("gemm_fp8");
    eff.gemm_fp8 = read_gemm_curve(fp8);
    eff.gemm_fp8.measured = true;
    eff.gemm_fp8.source = fp8.string("source");
    fp8.finish();
  }
  eff.elementwise_bytes_per_s = node.quantity("elementwise_bandwidth", Dimension::kBytesPerSecond);
  eff.graph_kernel_s = node.quantity("graph_kernel", Dimension::kSeconds);
  eff.eager_launch_s = node.quantity("eager_launch", Dimension::kSeconds, 0.0, true);
  if (node.has("power")) {
    ConfigNode power = node.child("power");
    power.has("source");
    eff.power_active_w = power.quantity("active", Dimension::kWatts, 0.0, true);
    eff.power_compute_w = power.quantity("compute", Dimension::kWatts, 0.0, true);
    eff.power_memory_w = power.quantity("memory", Dimension::kWatts, 0.0, true);
    eff.power_limit_w = power.quantity("limit", Dimension::kWatts, 0.0, true);
    eff.power_dvfs_exponent = power.number("dvfs_exponent", 1.0, 6.0, 0.0);
    power.finish();
  }
  node.finish();
  return eff;
}

nlohmann::json calibration_to_json(const GpuEfficiency& eff, const std::string& gpu,
                                   const std::vector<FitQuality>& quality, const std::string& inputs) {
  nlohmann::json out;
  out["gpu"] = gpu;
  out["source"] = eff.source;
  out["inputs"] = inputs;
  GemmCurve bf16;
  bf16.latency_s = eff.gemm_latency_s;
  bf16.memory_latency_s = eff.gemm_memory_latency_s;
  bf16.flops_per_s = eff.gemm_flops_per_s;
  bf16.bytes_per_s = eff.gemm_bytes_per_s;
  bf16.half_tiles = eff.gemm_half_tiles;
  bf16.memory_half_tiles = eff.gemm_memory_half_tiles;
  bf16.overlap = eff.gemm_overlap;
  bf16.measured_shapes = eff.gemm_measured_shapes;
  bf16.fixed_term_is_gpu_time = eff.gemm_fixed_term_is_gpu_time;
  out["gemm"] = gemm_curve_json(bf16);
  out["gemm"]["tile_m"] = eff.gemm_tile_m;
  out["gemm"]["tile_n"] = eff.gemm_tile_n;
  out["attention_prefill"] = {{"latency", with_unit(eff.attention_prefill_latency_s * 1e6, "us")},
                              {"rate", with_unit(eff.attention_prefill_flops_per_s / 1e12, "TFLOP/s")}};
  out["attention_decode"] = {{"latency", with_unit(eff.attention_decode_latency_s * 1e6, "us")},
                             {"bandwidth", with_unit(eff.attention_decode_bytes_per_s / 1e12, "TB/s")},
                             {"sequence_latency", with_unit(eff.attention_decode_sequence_s * 1e6, "us")},
                             {"half_heads", eff.attention_decode_half_heads}};
  // "gpu_time": the fixed term was fitted to CUDA-graph replayed (GPU-only) timings
  // and is kept inside iterations; written only when true.
  if (eff.prefill_attention_fixed_term_is_gpu_time) out["attention_prefill"]["gpu_time"] = true;
  if (eff.decode_attention_fixed_term_is_gpu_time) out["attention_decode"]["gpu_time"] = true;
  if (eff.gemm_fp8.measured) {
    out["gemm_fp8"] = gemm_curve_json(eff.gemm_fp8);
    out["gemm_fp8"]["source"] = eff.gemm_fp8.source;
  }
  out["elementwise_bandwidth"] = with_unit(eff.elementwise_bytes_per_s / 1e12, "TB/s");
  out["graph_kernel"] = with_unit(eff.graph_kernel_s * 1e6, "us");
  out["eager_launch"] = with_unit(eff.eager_launch_s * 1e6, "us");
  out["power"] = {{"active", with_unit(eff.power_active_w, "W")},
                  {"compute", with_unit(eff.power_compute_w, "W")},
                  {"memory", with_unit(eff.power_memory_w, "W")},
                  {"limit", with_unit(eff.power_limit_w, "W")}};
  if (eff.power_dvfs_exponent > 0.0) out["power"]["dvfs_exponent"] = eff.power_dvfs_exponent;
  nlohmann::json fits = nlohmann::json::array();
  for (const FitQuality& q : quality) {
    fits.push_back({{"curve", q.curve},
                    {"points", q.points},
                    {"rms_relative_error", q.rms_relative_error},
                    {"max_relative_error", q.max_relative_error}});
  }
  out["fit_quality"] = fits;
  return out;
}

// Tracks whether every row of one kind carries a GPU-only (CUDA-graph) time:
// all or none, so one curve is never fitted to a mix of the two timings.
class GpuOnlyRows {
 public:
  explicit GpuOnlyRows(std::string what) : what_(std::move(what)) {}
  /// The row's GPU-only time in seconds when it has `key`, else its single-call time.
  double seconds(ConfigNode& row, const std::string& key, double call_seconds) {
    const bool has = row.has(key);
    if (rows_ > 0 && has != all_) {
      row.fail(key, std::string(has ? "present" : "missing") + " here but " + (all_ ? "present" : "missing") +
                        " on the earlier " + what_ + " rows: every row of a kind must be timed the same way");
    }
    all_ = has;
    ++rows_;
    return has ? row.number(key, 1e-9, 1e9) * 1e-3 : call_seconds;
  }
  bool all() const { return rows_ > 0 && all_; }

 private:
  std::string what_;
  int rows_ = 0;
  bool all_ = false;
};

constexpr std::size_t kMinGemmRows = 4;
constexpr std::size_t kMinAttentionRows = 2;

Microbench read_microbench(const std::string& path) {
  ConfigNode root(load_json_file(path), path);
  Microbench bench;
  ConfigNode env = root.child("env");
  bench.gpu = env.string("gpu");
  bench.sms = env.integer("sms", 1, 100000);
  GpuOnlyRows gemm_rows("gemm"), prefill_rows("prefill_causal"), decode_rows("decode");
  // Too few rows leave a curve undetermined (the fit would print numbers no measurement supports).
  const std::vector<ConfigNode> gemm = root.array("gemm");
  if (gemm.size() < kMinGemmRows) {
    root.fail("gemm", std::to_string(gemm.size()) + " rows; the GEMM curve has 4 parameters: give at least " +
                          std::to_string(kMinGemmRows) + " rows of different shapes");
  }
  for (ConfigNode g : gemm) {
    GemmSample s;
    s.name = g.string("name", "");
    s.m = static_cast<double>(g.integer("M", 1, int64_t{1} << 40));
    s.n = static_cast<double>(g.integer("N", 1, int64_t{1} << 40));
    s.k = static_cast<double>(g.integer("K", 1, int64_t{1} << 40));
    s.call_seconds = g.number("ms", 1e-9, 1e9) * 1e-3;
    s.seconds = gemm_rows.seconds(g, "graph_ms", s.call_seconds);
    bench.gemm.push_back(s);
  }
  bench.gemm_gpu_only = gemm_rows.all();
  const std::string impl = root.string("decode_attention_impl", "sdpa");
  for (ConfigNode& a : root.array("attention")) {
    const std::string kind = a.string("kind");
    if (kind == "prefill_causal") {
      PrefillAttentionSample s;
      s.batch = a.integer("B", 1, 1 << 30);
      s.seq = a.integer("S", 1, 1 << 30);
      s.heads = a.integer("heads", 1, 100000, 32);
      s.head_dim = a.integer("head_dim", 1, 100000, 128);
      s.seconds = prefill_rows.seconds(a, "graph_ms", a.number("ms", 1e-9, 1e9) * 1e-3);
      bench.prefill_attention.push_back(s);
    } else if (kind == "decode") {
      DecodeAttentionSample s;
      s.batch = a.integer("B", 1, 1 << 30);
      s.context = a.integer("C", 1, 1 << 30);
      s.kv_bytes = a.number("kv_bytes", 1.0, 1e18);
      // ../shared/calibration's decode rows: 32 query heads over 8 KV heads of 128 (its README)
      s.kv_heads = a.integer("kv_heads", 1, 1 << 20, 8);
      // the GPU-only time of the implementation the engine uses
      s.seconds = decode_rows.seconds(a, impl + "_graph_ms", a.number(impl + "_ms", 1e-9, 1e9) * 1e-3);
      bench.decode_attention.push_back(s);
    }
  }
  for (const auto& [count, kind] : {std::pair{bench.prefill_attention.size(), "prefill_causal"},
                                    std::pair{bench.decode_attention.size(), "decode"}}) {
    if (count < kMinAttentionRows) {
      root.fail("attention", std::to_string(count) + " rows of kind \"" + kind + "\"; its curve has 2 parameters: give at least " +
                                 std::to_string(kMinAttentionRows));
    }
  }
  bench.prefill_attention_gpu_only = prefill_rows.all();
  bench.decode_attention_gpu_only = decode_rows.all();
  bench.hbm_copy_bytes_per_s = root.number("hbm_copy_GBps_rw", 1e-3, 1e9) * 1e9;
  bench.square_gemm_flops_per_s = root.number("gemm_8192_tflops", 0.0, 1e9, 0.0) * 1e12;
  ConfigNode launch = root.child("launch");
  bench.eager_launch_s = launch.number("eager_tiny_op_us", 0.0, 1e9) * 1e-6;
  bench.graph_kernel_s = launch.number("graph_tiny_kernel_us", 0.0, 1e9) * 1e-6;
  if (launch.has("eager_engine_op_us")) {
    bench.eager_engine_op_s = launch.number("eager_engine_op_us", 1e-6, 1e9) * 1e-6;
    bench.eager_engine_ops_per_layer = launch.number("eager_engine_ops_per_layer", 1.0, 1e9);
    bench.eager_engine_layer_s = launch.number("eager_engine_layer_us", 1e-6, 1e12) * 1e-6;
  }
  bench.power_limit_w = root.number("power_limit_w", 0.0, 1e6, 0.0);
  bench.idle_w = root.number("idle_power_w", 0.0, 1e6, 0.0);
  return bench;
}

Fp8GemmBench read_fp8_gemm_bench(const std::string& path) {
  ConfigNode root(load_json_file(path), path);
  root.require_object();
  Fp8GemmBench bench;
  ConfigNode env = root.child("env");
  bench.gpu = env.string("gpu");
  GpuOnlyRows rows("gemm_fp8");
  const std::vector<ConfigNode> gemm = root.array("gemm_fp8");
  if (gemm.size() < kMinGemmRows) {
    root.fail("gemm_fp8", std::to_string(gemm.size()) + " rows; the GEMM curve needs at least " +
                              std::to_string(kMinGemmRows) + " rows of different shapes");
  }
  for (ConfigNode g : gemm) {
    GemmSample s;
    s.name = g.string("name", "");
    s.m = static_cast<double>(g.integer("M", 1, int64_t{1} << 40));
    s.n = static_cast<double>(g.integer("N", 1, int64_t{1} << 40));
    s.k = static_cast<double>(g.integer("K", 1, int64_t{1} << 40));
    s.call_seconds = g.number("ms", 1e-9, 1e9) * 1e-3;
    s.seconds = rows.seconds(g, "graph_ms", s.call_seconds);
    bench.gemm.push_back(s);
  }
  bench.gpu_only = rows.all();
  bench.square_gemm_flops_per_s = root.number("gemm_fp8_8192_tflops", 0.0, 1e9, 0.0) * 1e12;
  return bench;
}

WholeModelTable read_whole_model(const std::string& path) {
  ConfigNode root(load_json_file(path), path);
  WholeModelTable table;
  table.path = path;
  if (!root.has("llama3_8b_arch")) return table;
  ConfigNode arch = root.child("llama3_8b_arch");
  table.model.name = "llama-3-8b (measured)";
  table.model.hidden = arch.integer("hidden", 1, int64_t{1} << 40);
  table.model.layers = arch.integer("layers", 1, 100000);
  table.model.heads = arch.integer("heads", 1, 100000);
  table.model.kv_heads = arch.integer("kv_heads", 1, 100000);
  table.model.head_dim = arch.integer("head_dim", 1, 100000);
  table.model.intermediate = arch.integer("intermediate", 1, int64_t{1} << 40);
  table.model.vocab = arch.integer("vocab", 0, int64_t{1} << 40);
  table.model.tied_embeddings = arch.boolean("tied_embeddings", false);
  table.weights_bytes = root.number("llama3_8b_weights_bytes", 0.0, 1e18, 0.0);
  // Each table is optional (tools/profile_gpu.py's whole_model section writes no energy table).
  for (const char* key : {"llama3_8b_prefill", "llama3_8b_decode"}) {
    if (!root.has(key)) continue;
    for (ConfigNode& row : root.array(key)) {
      WholeModelCase c;
      c.kind = "graph";
      c.batch = read_segments(row.child("segs"), &c.tokens);
      c.seconds = row.number("ms", 1e-9, 1e9) * 1e-3;
      c.label = label_of(c.batch);
      table.cases.push_back(c);
    }
  }
  for (ConfigNode& row : root.has("llama3_8b_eager_vs_graph") ? root.array("llama3_8b_eager_vs_graph")
                                                              : std::vector<ConfigNode>{}) {
    WholeModelCase c;
    c.kind = "eager";
    c.batch = read_segments(row.child("segs"), &c.tokens);
    c.seconds = row.number("eager_ms", 1e-9, 1e9) * 1e-3;
    c.graph_seconds = row.number("graph_ms", 1e-9, 1e9) * 1e-3;
    c.label = label_of(c.batch);
    table.cases.push_back(c);
  }
  for (ConfigNode& row : root.has("llama3_8b_energy") ? root.array("llama3_8b_energy") : std::vector<ConfigNode>{}) {
    ConfigNode segs = row.child("segs");
    if (segs.is_string()) {
      table.idle_w = row.number("W", 0.0, 1e6);
      continue;
    }
    WholeModelCase c;
    c.kind = "energy";
    c.batch = read_segments(segs, &c.tokens);
    c.seconds = row.number("ms_per_iter", 1e-9, 1e9) * 1e-3;
    c.watts = row.number("W", 0.0, 1e6);
    c.joules_per_token = row.number("J_per_token", 0.0, 1e9);
    c.label = label_of(c.batch);
    table.cases.push_back(c);
  }
  return table;
}

}  // namespace servesim

// Held-out operator benchmark (not a test): predicts the per-layer GEMMs of
// Vidur's public operator profiles (../shared/data/profiling/vidur/compute/
// <gpu>/<org>/<model>/mlp.csv, GPU time per op in ms, one TP shard) exactly as
// an iteration of OpLevelExecutionModel costs them: gemm_cost() with
// iteration_efficiency(effective_efficiency(gpu)). None of these numbers entered
// any fit: H100 uses our h100-sxm calibration (H100 microbenchmarks), A100 the
// datasheet peaks x default fractions. Prints gpu, model, tp, tokens, op,
// measured us, predicted us, error % and the bound, then per GPU the median and
// max |error| overall, for small M (tokens <= 128) and large M, per op, and of
// the four GEMMs summed per layer (what an iteration pays) by TP degree.
// Then inference-sim's H100 decode attention kernels (decode_attention_summary) and FP8 GEMM
// kernels (fp8_gemm_summary).
// Usage: heldout_bench [--summary] [VIDUR_COMPUTE_DIR]
//   (default: $SERVESIM_HOME/../shared/data/profiling/vidur/compute)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "models/execution/op_level_model.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"

namespace servesim {
namespace {

constexpr double kBf16BytesPerParam = 2.0;
constexpr int64_t kSmallMTokens = 128;  // tokens <= this: the weight-streaming (small-M) regime
const int64_t kTokens[] = {1, 8, 32, 128, 512, 2048, 4096};
const char* const kOps[] = {"attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"};
const char* const kOpLabels[] = {"qkv", "o", "gate_up", "down"};

struct GpuCase {
  const char* vidur_dir;  // folder under compute/
  const char* hardware;   // our catalog name
};
const GpuCase kGpus[] = {{"h100", "h100-sxm"}, {"a100", "a100-sxm-80gb"}};
const char* const kModels[] = {"meta-llama/Llama-2-7b-hf",  "meta-llama/Llama-2-70b-hf", "codellama/CodeLlama-34b-Instruct-hf",
                               "Qwen/Qwen-72B",             "meta-llama/Meta-Llama-3-8B", "meta-llama/Meta-Llama-3-70B"};

struct Shape {
  double heads = 0, kv_heads = 0, embd = 0, expanded = 0;
  bool gated = true;
};

// One (tp, tokens) point: the medians of the four GEMM ops in seconds
// (files hold several rows per point; their medians are averaged).
struct Point {
  Shape shape;
  double sum_s[4] = {0, 0, 0, 0};
  int rows = 0;
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) out.push_back(cell);
  return out;
}

std::map<std::pair<int64_t, int64_t>, Point> read_vidur(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!std::getline(in, line)) throw ConfigError::at(path.string(), "empty file");
  const std::vector<std::string> header = split(line);
  auto column = [&](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) throw ConfigError::at(path.string(), "no column '" + name + "'");
    return static_cast<std::size_t>(it - header.begin());
  };
  std::size_t op_col[4];
  for (int i = 0; i < 4; ++i) op_col[i] = column(std::string("time_stats.") + kOps[i] + ".median");
  const std::size_t heads = column("n_head"), kv = column("n_kv_head"), embd = column("n_embd"),
                    expanded = column("n_expanded_embd"), gated = column("use_gated_mlp"), tokens = column("num_tokens"),
                    tp = column("num_tensor_parallel_workers");
  std::map<std::pair<int64_t, int64_t>, Point> points;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split(line);
    if (cells.size() < header.size()) continue;
    Point& p = points[{std::stoll(cells[tp]), std::stoll(cells[tokens])}];
    p.shape = Shape{std::stod(cells[heads]), std::stod(cells[kv]), std::stod(cells[embd]), std::stod(cells[expanded]),
                    cells[gated] == "True"};
    for (int i = 0; i < 4; ++i) p.sum_s[i] += std::stod(cells[op_col[i]]) * 1e-3;
    ++p.rows;
  }
  return points;
}

// (N, K) of each GEMM on one TP shard, as OpLevelExecutionModel shards the model.
std::pair<double, double> gemm_nk(const Shape& s, double tp, int op) {
  const double head_dim = s.embd / s.heads;
  const double heads = s.heads / tp;
  const double kv_heads = std::max(1.0, s.kv_heads / tp);
  const double ffn = s.expanded / tp;
  switch (op) {
    case 0: return {(heads + 2.0 * kv_heads) * head_dim, s.embd};
    case 1: return {s.embd, heads * head_dim};
    case 2: return {(s.gated ? 2.0 : 1.0) * ffn, s.embd};
    default: return {s.embd, ffn};
  }
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
double max_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

std::string summary(const std::vector<double>& v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%4zu cases, median %5.1f%%, max %6.1f%%", v.size(), median(v), max_of(v));
  return buf;
}

// Decode attention held out: inference-sim's H100 decode kernels
// (../shared/data/profiling/inference-sim-h100-kernels/bench_data/mha/decode/h100/
// <heads>-<kv_heads>-<head_dim>-tp<n>.csv: batch_size, kv_len, latency_us of one call) against one
// call of our h100-sxm decode curve: latency (dispatch) + decode_attention_stream_s, and the same
// curve without its occupancy term (half_heads = 0). Grouped by query / KV head ratio.
std::string decode_attention_summary(const std::string& dir, bool table) {
  if (!std::filesystem::is_directory(dir)) return "decode attention: " + dir + " not found; skipped\n";
  const GpuSpec spec = load_node("h100-sxm").gpu;
  const GpuEfficiency eff = effective_efficiency(spec);
  GpuEfficiency flat = eff;
  flat.attention_decode_half_heads = 0.0;
  std::map<int64_t, std::vector<double>> by_ratio, flat_by_ratio, long_by_ratio;
  std::vector<double> all, flat_all, long_all;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".csv") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    long long heads = 0, kv = 0, head_dim = 0, tp = 0;
    if (std::sscanf(path.stem().string().c_str(), "%lld-%lld-%lld-tp%lld", &heads, &kv, &head_dim, &tp) != 4) continue;
    const double kv_heads = std::max(1.0, static_cast<double>(kv) / static_cast<double>(tp));
    const int64_t ratio = heads / kv;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      const std::vector<std::string> f = split(line);
      if (f.size() < 5) continue;
      const double b = std::stod(f[2]), context = std::stod(f[3]), measured_s = std::stod(f[4]) * 1e-6;
      const double kv_bytes = b * context * kv_heads * static_cast<double>(head_dim) * 2.0 * 2.0;  // K and V, bf16
      const double predicted_s =
          eff.attention_decode_latency_s + decode_attention_stream_s(eff, b, kv_bytes, b * kv_heads);
      const double flat_s = flat.attention_decode_latency_s + decode_attention_stream_s(flat, b, kv_bytes, b * kv_heads);
      const double error = std::fabs(predicted_s / measured_s - 1.0) * 100.0;
      const double flat_error = std::fabs(flat_s / measured_s - 1.0) * 100.0;
      by_ratio[ratio].push_back(error);
      flat_by_ratio[ratio].push_back(flat_error);
      all.push_back(error);
      flat_all.push_back(flat_error);
      // Rows well above one call's dispatch (> 100 us): the GPU work dominates.
      if (measured_s > 100e-6) {
        long_by_ratio[ratio].push_back(error);
        long_all.push_back(error);
      }
      if (table) {
        std::printf("decode %-22s B=%4.0f C=%6.0f %10.1f us %10.1f us %+7.1f%%\n", path.stem().string().c_str(), b,
                    context, measured_s * 1e6, predicted_s * 1e6, (predicted_s / measured_s - 1.0) * 100.0);
      }
    }
  }
  std::string s = "decode attention, inference-sim H100 kernels (h100-sxm calibration, one call): |error|\n";
  s += "  all rows          " + summary(all) + "   without occupancy: " + summary(flat_all) + "\n";
  s += "  rows > 100 us     " + summary(long_all) + "\n";
  for (const auto& [ratio, errors] : by_ratio) {
    char label[48];
    std::snprintf(label, sizeof label, "  q/kv ratio %-2lld    ", static_cast<long long>(ratio));
    s += label + summary(errors) + "   without occupancy: " + summary(flat_by_ratio[ratio]) + "; > 100 us: " +
         summary(long_by_ratio[ratio]) + "\n";
  }
  return s;
}

// FP8 GEMM kernels held out: inference-sim's H100 GEMM benchmark
// (../shared/data/profiling/inference-sim-h100-kernels/bench_data/gemm/h100/data.csv: m, k, n,
// latency_us of one GPU kernel; its mfu column is latency against 1,979 TFLOP/s, and its fastest
// rows reach 1,278 TFLOP/s, more than the H100's 989 TFLOP/s dense bf16 peak: FP8 e4m3 GEMMs) against
// our h100-sxm FP8 curve (datasheet-derived from the bf16 fit: no H100 FP8 measurements of our own)
// inside an iteration: gemm_cost() with FP8 weights and inputs, bf16 output. Kernel times only: the
// cast before each FP8 GEMM is its own kernel and not in these rows.
std::string fp8_gemm_summary(const std::string& path, bool table) {
  std::ifstream in(path);
  if (!in) return "FP8 GEMMs: " + path + " not found; skipped\n";
  const GpuSpec spec = load_node("h100-sxm").gpu;
  const GemmCurve curve = gemm_curve(spec, DType::kFp8);
  const GpuEfficiency eff = iteration_efficiency(with_gemm_curve(effective_efficiency(spec), curve));
  std::vector<double> all, small_m, large_m;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const std::vector<std::string> f = split(line);
    if (f.size() < 4) continue;
    const double m = std::stod(f[0]), k = std::stod(f[1]), n = std::stod(f[2]), measured_s = std::stod(f[3]) * 1e-6;
    const GemmCost cost = gemm_cost(eff, spec.sms, m, n, k, 1.0, 1.0);
    const double error = (cost.seconds / measured_s - 1.0) * 100.0;
    all.push_back(std::fabs(error));
    (m <= static_cast<double>(kSmallMTokens) ? small_m : large_m).push_back(std::fabs(error));
    if (table) {
      std::printf("fp8 gemm  M=%7.0f K=%5.0f N=%6.0f %10.1f us %10.1f us %+7.1f%%  %s\n", m, k, n, measured_s * 1e6,
                  cost.seconds * 1e6, error, bound_name(cost.bound));
    }
  }
  std::string s = "FP8 GEMM kernels, inference-sim H100 (h100-sxm FP8 curve: " + curve.source + "): |error|\n";
  s += "  all              " + summary(all) + "\n";
  s += "  small M (<=" + std::to_string(kSmallMTokens) + ")   " + summary(small_m) + "\n";
  s += "  large M          " + summary(large_m) + "\n";
  return s;
}

int run(int argc, char** argv) {
  bool table = true;
  std::string root = servesim_home() + "/../shared/data/profiling/vidur/compute";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--summary") == 0) {
      table = false;
    } else {
      root = argv[i];
    }
  }
  if (!std::filesystem::is_directory(root)) {
    std::printf("heldout_bench: %s not found; skipped (needs Vidur's compute profiles, ../shared/data)\n", root.c_str());
    return 0;
  }
  if (table) {
    std::printf("%-5s %-28s %3s %6s %-8s %11s %11s %8s  %s\n", "gpu", "model", "tp", "tokens", "op", "measured_us",
                "predicted_us", "error", "bound");
  }
  std::vector<std::string> summaries;
  for (const GpuCase& gpu : kGpus) {
    const GpuSpec spec = load_node(gpu.hardware).gpu;
    const GpuEfficiency eff = iteration_efficiency(effective_efficiency(spec));
    std::vector<double> all, small_m, large_m, per_op[4];
    std::map<int64_t, std::vector<double>> layer_by_tp;  // |error| of the 4 GEMMs summed
    for (const char* model : kModels) {
      const std::filesystem::path path = std::filesystem::path(root) / gpu.vidur_dir / model / "mlp.csv";
      if (!std::filesystem::exists(path)) continue;
      const std::string name = std::filesystem::path(model).filename().string();
      for (const auto& [key, point] : read_vidur(path)) {
        const auto [tp, tokens] = key;
        if (std::find(std::begin(kTokens), std::end(kTokens), tokens) == std::end(kTokens)) continue;
        double layer_measured_s = 0.0, layer_predicted_s = 0.0;
        for (int op = 0; op < 4; ++op) {
          const double measured_s = point.sum_s[op] / point.rows;
          if (!(measured_s > 0.0)) continue;
          const auto [n, k] = gemm_nk(point.shape, static_cast<double>(tp), op);
          const GemmCost cost = gemm_cost(eff, spec.sms, static_cast<double>(tokens), n, k, kBf16BytesPerParam);
          const double error = (cost.seconds / measured_s - 1.0) * 100.0;
          all.push_back(std::fabs(error));
          (tokens <= kSmallMTokens ? small_m : large_m).push_back(std::fabs(error));
          per_op[op].push_back(std::fabs(error));
          layer_measured_s += measured_s;
          layer_predicted_s += cost.seconds;
          if (table) {
            std::printf("%-5s %-28s %3lld %6lld %-8s %11.1f %11.1f %+7.1f%%  %s\n", gpu.vidur_dir, name.c_str(),
                        static_cast<long long>(tp), static_cast<long long>(tokens), kOpLabels[op], measured_s * 1e6,
                        cost.seconds * 1e6, error, bound_name(cost.bound));
          }
        }
        if (layer_measured_s > 0.0) {
          layer_by_tp[tp].push_back(std::fabs((layer_predicted_s / layer_measured_s - 1.0) * 100.0));
        }
      }
    }
    std::string s = std::string(gpu.vidur_dir) + " (" + gpu.hardware + ", " +
                    (spec.efficiency.calibrated ? "our calibration" : "datasheet defaults") + "): |error|\n";
    s += "  all              " + summary(all) + "\n";
    s += "  small M (<=" + std::to_string(kSmallMTokens) + ")   " + summary(small_m) + "\n";
    s += "  large M          " + summary(large_m) + "\n";
    for (int op = 0; op < 4; ++op) {
      char label[32];
      std::snprintf(label, sizeof label, "  %-17s", kOpLabels[op]);
      s += label + summary(per_op[op]) + "\n";
    }
    for (const auto& [tp, errors] : layer_by_tp) {
      char label[48];
      std::snprintf(label, sizeof label, "  per layer, TP %-2lld ", static_cast<long long>(tp));
      s += label + summary(errors) + "\n";
    }
    if (all.empty()) s = std::string(gpu.vidur_dir) + ": no Vidur files found under " + root + "\n";
    summaries.push_back(s);
  }
  std::printf("\nheld-out GEMMs, tokens {1,8,32,128,512,2048,4096} x TP {1,2,4,8} (bf16), predicted as inside an iteration\n");
  for (const std::string& s : summaries) std::printf("%s", s.c_str());
  std::printf("\n%s", decode_attention_summary(servesim_home() +
                                                  "/../shared/data/profiling/inference-sim-h100-kernels/bench_data/mha/"
                                                  "decode/h100",
                                              table)
                          .c_str());
  std::printf("\n%s", fp8_gemm_summary(servesim_home() +
                                           "/../shared/data/profiling/inference-sim-h100-kernels/bench_data/gemm/h100/"
                                           "data.csv",
                                       table)
                          .c_str());
  return 0;
}

}  // namespace
}  // namespace servesim

int main(int argc, char** argv) {
  try {
    return servesim::run(argc, argv);
  } catch (const servesim::ConfigError& error) {
    std::fprintf(stderr, "heldout_bench: error: %s\n", error.what());
    return 2;
  }
}

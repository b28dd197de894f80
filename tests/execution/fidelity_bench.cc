// Fidelity benchmark (not a test): predicts every whole-model iteration of
// ../shared/calibration/h200_microbench_and_llama3_8b.json with the shipped
// h200-sxm calibration (fitted on microbenchmarks; the host cost of an eager launch
// on the host-bound eager rows, whose leave-one-out errors are printed too) and
// prints measured vs predicted with the error, then median and max |error| for
// iteration time and energy per token. Then the same cases predicted for h100-sxm (from the H100
// microbenchmarks; its eager launch cost is its tiny-op loop x kEngineOpPerTinyOp; no measured
// whole-model numbers exist for it).
// Usage: fidelity_bench [MEASUREMENT.json [HARDWARE]] (default: $SERVESIM_HOME/../shared/calibration/...
// on h200-sxm; a whole-model file measured by tools/profile_gpu.py on another GPU names its catalog node).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "models/execution/op_level_model.h"
#include "sim/config/calibration_io.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"

namespace servesim {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Deployment deployment_for(const std::string& hardware, const ModelSpec& model, const std::string& engine) {
  Deployment d;
  d.node = load_node(hardware);
  d.model = model;
  d.engine = load_engine(engine);
  return d;
}

// Cost of ExecutionModel::timing() per call for a typical serving batch (two
// prefill chunks + one aggregated decode group), and of building the model.
void print_speed() {
  Deployment d;
  d.node = load_node("h100-sxm");
  d.model = load_model("llama-3.1-70b");
  d.engine = load_engine("vllm");
  d.plan.tp = 4;
  const auto build_start = std::chrono::steady_clock::now();
  OpLevelExecutionModel model(d);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();
  BatchShape batch{{Segment{1, 512, 0}, Segment{1, 256, 1024}, Segment{120, 1, 900}}};
  const int calls = 1000000;
  double sink = 0.0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    batch.segments[2].context_tokens = 900 + (i & 255);  // defeat any caching
    sink += model.timing(batch).iteration_s;
  }
  const double per_call = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / calls;
  std::printf("\nspeed: timing() %.3f us per call (llama-3.1-70b TP4 vllm, 3 segments; checksum %.3f); "
              "model construction %.3f ms\n",
              per_call * 1e6, sink, build_s * 1e3);
}

// The eager launch cost is fitted on the host-bound eager rows themselves, so
// their errors above are in-sample. Here each host-bound row is predicted with the
// cost fitted on the others, and with the tiny-op loop the file also measured.
void print_eager_leave_one_out(const WholeModelTable& table, const OpLevelExecutionModel& eager) {
  std::vector<EagerIterationSample> samples;
  std::vector<double> gpu_s;
  for (const WholeModelCase& c : table.cases) {
    if (c.kind != "eager") continue;
    samples.push_back(
        EagerIterationSample{c.label, static_cast<double>(eager.launches(c.batch)), c.seconds, c.graph_seconds});
    gpu_s.push_back(eager.activity(c.batch).busy_s);
  }
  const double tiny_s = read_microbench(table.path).eager_launch_s;
  std::printf("\neager rows, host cost per launch fitted without the row (leave-one-out) and the tiny-op loop (%.2f us)\n",
              tiny_s * 1e6);
  std::printf("%-28s %9s %12s %12s %8s %12s %8s\n", "case", "launches", "measured", "held-out", "error", "tiny-op",
              "error");
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const EagerIterationSample& s = samples[i];
    if (s.eager_seconds < kHostBoundRatio * s.graph_seconds) continue;
    std::vector<EagerIterationSample> others = samples;
    others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
    const double c = fit_eager_launch(others, nullptr);
    if (c <= 0.0) continue;
    const double held_out = std::max(gpu_s[i], s.launches * c);
    const double tiny = std::max(gpu_s[i], s.launches * tiny_s);
    std::printf("%-28s %9.0f %12.3f %12.3f %+7.1f%% %12.3f %+7.1f%%\n", s.label.c_str(), s.launches,
                s.eager_seconds * 1e3, held_out * 1e3, (held_out / s.eager_seconds - 1.0) * 100.0, tiny * 1e3,
                (tiny / s.eager_seconds - 1.0) * 100.0);
  }
}

// The FP8 GEMM fit (servesim calibrate --fp8 on h200_fp8_gemm.json, shipped in the h200-sxm calibration):
// every FP8 row measured vs the fitted curve (single-call times, as fitted: the curve with its fixed
// terms), whether the row entered the fit (above kFloorMultiple x the file's dispatch floor), and the
// datasheet-derived curve (bf16 fit x FP8 / bf16 dense peak) that GPUs without FP8 measurements get.
void print_fp8_gemm_fit(const std::string& path, const std::string& hardware) {
  if (!std::filesystem::exists(path)) {
    std::printf("\nFP8 GEMM fit: %s not found; skipped\n", path.c_str());
    return;
  }
  const Fp8GemmBench bench = read_fp8_gemm_bench(path);
  GpuSpec gpu = load_node(hardware).gpu;
  if (!gpu.efficiency.gemm_fp8.measured) {
    std::printf("\nFP8 GEMM fit: %s has no FP8 fit; skipped\n", hardware.c_str());
    return;
  }
  const GpuEfficiency fitted = with_gemm_curve(effective_efficiency(gpu), gpu.efficiency.gemm_fp8);
  GpuSpec unmeasured = gpu;
  unmeasured.efficiency.gemm_fp8 = GemmCurve{};
  const GpuEfficiency derived = with_gemm_curve(effective_efficiency(gpu), gemm_curve(unmeasured, DType::kFp8));
  double floor_s = 1e300;
  for (const GemmSample& s : bench.gemm) floor_s = std::min(floor_s, s.seconds);
  std::printf("\n%s FP8 (e4m3) GEMMs of %s: measured vs the fitted FP8 curve and vs the datasheet-derived one\n"
              "(bf16 fit x %.2f); 'fit' = above %.1f x the %.1f us dispatch floor (the points the curve was fitted to)\n",
              hardware.c_str(), path.c_str(), gpu.fp8_flops_per_s / gpu.bf16_flops_per_s, kFloorMultiple, floor_s * 1e6);
  std::printf("%-18s %6s %6s %6s %4s %11s %11s %8s %11s %8s\n", "shape", "M", "N", "K", "fit", "measured us",
              "fitted us", "error", "derived us", "error");
  std::vector<double> fit_errors, all_errors, derived_fit_errors;
  for (const GemmSample& s : bench.gemm) {
    const double predicted = gemm_cost(fitted, gpu.sms, s.m, s.n, s.k, 1.0, 1.0).seconds;
    const double from_datasheet = gemm_cost(derived, gpu.sms, s.m, s.n, s.k, 1.0, 1.0).seconds;
    const bool in_fit = s.seconds >= kFloorMultiple * floor_s;
    const double e = (predicted / s.seconds - 1.0) * 100.0, d = (from_datasheet / s.seconds - 1.0) * 100.0;
    all_errors.push_back(std::fabs(e));
    if (in_fit) {
      fit_errors.push_back(std::fabs(e));
      derived_fit_errors.push_back(std::fabs(d));
    }
    std::printf("%-18s %6.0f %6.0f %6.0f %4s %11.1f %11.1f %+7.1f%% %11.1f %+7.1f%%\n", s.name.c_str(), s.m, s.n, s.k,
                in_fit ? "yes" : "", s.seconds * 1e6, predicted * 1e6, e, from_datasheet * 1e6, d);
  }
  auto max_of = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
  std::printf("FP8 GEMM fit: %zu fitted rows median |error| %.1f%%, max %.1f%%; all %zu rows median %.1f%%, max %.1f%% "
              "(rows under the floor are host dispatch, not GPU time)\n",
              fit_errors.size(), median(fit_errors), max_of(fit_errors), all_errors.size(), median(all_errors),
              max_of(all_errors));
  std::printf("datasheet-derived FP8 curve on the fitted rows: median |error| %.1f%%, max %.1f%%\n",
              median(derived_fit_errors), max_of(derived_fit_errors));
}

// Whole-model prefill iterations with FP8 (W8A8) layer GEMMs against bf16 (no FP8 iteration measurements
// here: the held-out check has them). Reference engine FP8 variant: cast before each layer GEMM, LM head,
// attention and KV cache bf16.
void print_fp8_prefill(const WholeModelTable& table, const std::string& hardware) {
  Deployment d = deployment_for(hardware, table.model, "reference-graph");
  OpLevelExecutionModel bf16(d);
  set_precision(d, Precision{DType::kFp8, DType::kFp8, DType::kBf16});
  OpLevelExecutionModel fp8(d);
  std::printf("\n%s, Llama-3-8B, reference-graph, prefill: bf16 vs FP8 (W8A8, KV bf16) predicted\n", hardware.c_str());
  std::printf("%-28s %12s %12s %12s %8s\n", "case", "measured bf16", "bf16 ms", "fp8 ms", "fp8/bf16");
  for (const WholeModelCase& c : table.cases) {
    if (c.kind != "graph") continue;
    bool prefill = true;
    for (const Segment& s : c.batch.segments) prefill = prefill && s.new_tokens > 1;
    if (!prefill) continue;
    const double a = bf16.timing(c.batch).iteration_s, b = fp8.timing(c.batch).iteration_s;
    std::printf("%-28s %12.3f %12.3f %12.3f %8.3f\n", c.label.c_str(), c.seconds * 1e3, a * 1e3, b * 1e3, b / a);
  }
}

// The 8192^3 bf16 GEMM microbenchmark of each shared file, against the fitted burst rate and the rate the
// DVFS model gives the same GEMM run back to back at the power limit (its activity: all clocked, the
// product's FLOPs and bytes). Not fitted: shows whether the microbenchmark ran power-limited.
void print_square_gemm_check() {
  std::printf("\n8192^3 bf16 GEMM: measured microbenchmark vs fitted burst rate vs the DVFS model run sustained\n");
  std::printf("%-10s %12s %12s %12s %8s\n", "gpu", "measured", "burst fit", "sustained", "clock");
  const std::string dir = servesim_home() + "/../shared/calibration/";
  for (const auto& [file, hardware] : {std::pair<std::string, std::string>{"h200_microbench_and_llama3_8b.json", "h200-sxm"},
                                       {"h100_sxm_microbench.json", "h100-sxm"}}) {
    if (!std::filesystem::exists(dir + file)) continue;
    const double measured = read_microbench(dir + file).square_gemm_flops_per_s;
    const GpuSpec gpu = load_node(hardware).gpu;
    const GpuEfficiency eff = iteration_efficiency(effective_efficiency(gpu));
    const GemmCost cost = gemm_cost(eff, gpu.sms, 8192, 8192, 8192, 2.0);
    const ActivityPowerModel power(activity_power_for(gpu));
    const GpuActivity run =
        power.at_power_limit(GpuActivity{cost.seconds, cost.seconds, cost.flops, cost.bytes, cost.seconds, 1.0, 1.0});
    std::printf("%-10s %8.1f TF/s %8.1f TF/s %8.1f TF/s %8.3f\n", hardware.c_str(), measured / 1e12,
                cost.flops / cost.seconds / 1e12, cost.flops / run.seconds / 1e12, run.clock_fraction);
  }
}

int run(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : servesim_home() + "/../shared/calibration/h200_microbench_and_llama3_8b.json";
  // The catalog node the measurements were taken on (a file from tools/profile_gpu.py's whole_model section
  // on another GPU: pass its node, e.g. h100-sxm).
  const std::string hardware = argc > 2 ? argv[2] : "h200-sxm";
  if (!std::filesystem::exists(path)) {
    std::printf("fidelity_bench: %s not found; nothing to compare (pass the measurement file as argument)\n",
                path.c_str());
    print_speed();
    return 0;
  }
  const WholeModelTable table = read_whole_model(path);
  OpLevelExecutionModel h200_graph(deployment_for(hardware, table.model, "reference-graph"));
  OpLevelExecutionModel h200_eager(deployment_for(hardware, table.model, "reference-eager"));
  OpLevelExecutionModel h100_graph(deployment_for("h100-sxm", table.model, "reference-graph"));
  OpLevelExecutionModel h100_eager(deployment_for("h100-sxm", table.model, "reference-eager"));

  std::printf("%s, Llama-3-8B, reference engine: measured vs predicted (GPU curves fitted on microbenchmarks only;\n"
              "eager launch cost fitted on the host-bound eager rows, see the leave-one-out table below)\n",
              hardware.c_str());
  std::printf("%-8s %-28s %12s %12s %8s   %-5s %-10s\n", "kind", "case", "measured", "predicted", "error", "clock",
              "unit");
  std::vector<double> time_errors, energy_errors;
  for (const WholeModelCase& c : table.cases) {
    OpLevelExecutionModel& model = c.kind == "eager" ? h200_eager : h200_graph;
    const IterationTiming t = model.timing(c.batch);
    const double e_time = (t.iteration_s / c.seconds - 1.0) * 100.0;
    if (c.kind != "energy") {
      time_errors.push_back(std::fabs(e_time));
      std::printf("%-8s %-28s %12.3f %12.3f %+7.1f%%   %.3f ms\n", c.kind.c_str(), c.label.c_str(), c.seconds * 1e3,
                  t.iteration_s * 1e3, e_time, t.clock_fraction);
    } else {
      const double jpt = t.energy_j / static_cast<double>(c.tokens);
      const double e_energy = (jpt / c.joules_per_token - 1.0) * 100.0;
      energy_errors.push_back(std::fabs(e_energy));
      const double watts = t.energy_j / t.iteration_s;
      std::printf("%-8s %-28s %12.4f %12.4f %+7.1f%%   %.3f J/token (power %.0f W measured, %.0f W predicted; "
                  "time %.2f vs %.2f ms)\n",
                  c.kind.c_str(), c.label.c_str(), c.joules_per_token, jpt, e_energy, t.clock_fraction, c.watts, watts,
                  c.seconds * 1e3, t.iteration_s * 1e3);
    }
  }
  std::printf("\niteration time: %zu cases, median |error| %.1f%%, max |error| %.1f%%\n", time_errors.size(),
              median(time_errors), time_errors.empty() ? 0.0 : *std::max_element(time_errors.begin(), time_errors.end()));
  std::printf("energy per token: %zu cases, median |error| %.1f%%, max |error| %.1f%%\n", energy_errors.size(),
              median(energy_errors),
              energy_errors.empty() ? 0.0 : *std::max_element(energy_errors.begin(), energy_errors.end()));

  print_eager_leave_one_out(table, h200_eager);
  if (hardware == "h200-sxm") {
    print_fp8_gemm_fit(servesim_home() + "/../shared/calibration/h200_fp8_gemm.json", hardware);
    print_fp8_prefill(table, hardware);
  }

  std::printf("\nH100 SXM predictions for the same cases (from the H100 microbenchmarks, eager launch = its tiny-op loop x "
              "%.3f; no measurements to compare)\n",
              kEngineOpPerTinyOp);
  std::printf("%-8s %-28s %12s %14s\n", "kind", "case", "predicted ms", "J/token");
  for (const WholeModelCase& c : table.cases) {
    OpLevelExecutionModel& model = c.kind == "eager" ? h100_eager : h100_graph;
    const IterationTiming t = model.timing(c.batch);
    std::printf("%-8s %-28s %12.3f %14.4f\n", c.kind.c_str(), c.label.c_str(), t.iteration_s * 1e3,
                t.energy_j / static_cast<double>(c.tokens));
  }
  print_square_gemm_check();
  print_speed();
  return 0;
}

}  // namespace
}  // namespace servesim

int main(int argc, char** argv) {
  try {
    return servesim::run(argc, argv);
  } catch (const servesim::ConfigError& error) {
    std::fprintf(stderr, "fidelity_bench: error: %s\n", error.what());
    return 2;
  }
}

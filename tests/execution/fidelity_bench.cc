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
#include "sim/config_error.h"

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
  std::printf("%-8s %-28s %12s %12s %8s   %-10s\n", "kind", "case", "measured", "predicted", "error", "unit");
  std::vector<double> time_errors, energy_errors;
  for (const WholeModelCase& c : table.cases) {
    OpLevelExecutionModel& model = c.kind == "eager" ? h200_eager : h200_graph;
    const IterationTiming t = model.timing(c.batch);
    const double e_time = (t.iteration_s / c.seconds - 1.0) * 100.0;
    if (c.kind != "energy") {
      time_errors.push_back(std::fabs(e_time));
      std::printf("%-8s %-28s %12.3f %12.3f %+7.1f%%   ms\n", c.kind.c_str(), c.label.c_str(), c.seconds * 1e3,
                  t.iteration_s * 1e3, e_time);
    } else {
      const double jpt = t.energy_j / static_cast<double>(c.tokens);
      const double e_energy = (jpt / c.joules_per_token - 1.0) * 100.0;
      energy_errors.push_back(std::fabs(e_energy));
      const double watts = t.energy_j / t.iteration_s;
      std::printf("%-8s %-28s %12.4f %12.4f %+7.1f%%   J/token (power %.0f W measured, %.0f W predicted; "
                  "time %.2f vs %.2f ms)\n",
                  c.kind.c_str(), c.label.c_str(), c.joules_per_token, jpt, e_energy, c.watts, watts,
                  c.seconds * 1e3, t.iteration_s * 1e3);
    }
  }
  std::printf("\niteration time: %zu cases, median |error| %.1f%%, max |error| %.1f%%\n", time_errors.size(),
              median(time_errors), time_errors.empty() ? 0.0 : *std::max_element(time_errors.begin(), time_errors.end()));
  std::printf("energy per token: %zu cases, median |error| %.1f%%, max |error| %.1f%%\n", energy_errors.size(),
              median(energy_errors),
              energy_errors.empty() ? 0.0 : *std::max_element(energy_errors.begin(), energy_errors.end()));

  print_eager_leave_one_out(table, h200_eager);

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

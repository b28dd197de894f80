// `servesim calibrate`: fits a GPU's efficiency curves and power coefficients
// from a microbenchmark file (../shared/calibration format, or what
// tools/profile_gpu.py writes), or the alpha-beta collective model from NCCL
// timings (Vidur's network CSV layout).
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/comm/collective_model.h"
#include "models/comm/nccl_csv.h"
#include "models/execution/host_overhead_fit.h"
#include "models/energy/power_model.h"
#include "models/execution/calibration_fit.h"
#include "models/execution/op_level_model.h"
#include "sim/config/calibration_io.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"
#include "sim/io/output_dir.h"
#include "tools/command.h"
#include "tools/command_line.h"

namespace servesim {
namespace {

// A sustained row drawing at least this share of the power limit ran at a power-limited clock (NVIDIA's
// limiter holds the mean draw a little under its setting: 679-687 W at 700 W on our H200).
constexpr double kPowerLimitedShare = 0.95;
// Grid of DVFS exponents tried (1 = power linear in clock at fixed voltage, 3 = voltage proportional to
// clock), in halves: five energy rows do not resolve it more finely, and halves keep the clock solve
// free of pow().
constexpr double kDvfsExponentMin = 1.0, kDvfsExponentMax = 5.0;
constexpr int kDvfsExponentSteps = 8;

std::string guess_hardware(const std::string& gpu) {
  if (gpu.find("H200") != std::string::npos) return "h200-sxm";
  if (gpu.find("GH200") != std::string::npos) return "gh200";
  if (gpu.find("H100") != std::string::npos && gpu.find("PCIe") != std::string::npos) return "h100-pcie";
  if (gpu.find("H100") != std::string::npos) return "h100-sxm";
  if (gpu.find("A100") != std::string::npos) return "a100-sxm-80gb";
  if (gpu.find("B200") != std::string::npos) return "b200";
  return "";
}

// Power coefficients and the DVFS exponent from whole-iteration energy rows (sustained: >= 2 s of
// back-to-back iterations). The activity of each row at the boost clock comes from the just-fitted
// time model (burst microbenchmarks) run on the measured model's shapes (reference-graph engine).
// A row drawing at least kPowerLimitedShare of the limit ran power-limited: its SM clock is what makes
// the model's clocked time fill the measured time, f = clocked / (measured - unclocked); the others ran
// at f = 1. For each exponent on a grid the coefficients are least squares on the rows' watts
// (compute term x f^(exponent - 1)); the exponent with the smallest rms is kept.
void fit_power(const std::string& path, const NodeSpec& node, GpuEfficiency* eff, std::vector<FitQuality>* quality) {
  const WholeModelTable table = read_whole_model(path);
  std::vector<PowerSample> samples;
  std::vector<std::string> labels;
  std::vector<GpuActivity> boost;
  std::vector<double> measured_s;
  Deployment deployment;
  deployment.node = node;
  deployment.node.gpu.efficiency = *eff;
  deployment.model = table.model;
  deployment.engine = load_engine("reference-graph");
  OpLevelExecutionModel model(deployment);
  const double limit_w = eff->power_limit_w > 0.0 ? eff->power_limit_w : node.gpu.tdp_w;
  for (const WholeModelCase& c : table.cases) {
    if (c.kind != "energy") continue;
    const GpuActivity a = model.activity(c.batch);
    PowerSample s;
    s.busy_fraction = std::min(1.0, a.busy_s / c.seconds);
    s.compute_fraction = a.flops / c.seconds / node.gpu.bf16_flops_per_s;
    s.memory_fraction = a.hbm_bytes / c.seconds / node.gpu.hbm_bytes_per_s;
    s.watts = c.watts;
    if (c.watts >= kPowerLimitedShare * limit_w) {
      const double room = c.seconds - (a.seconds - a.clocked_s);
      s.clock_fraction = room > a.clocked_s ? a.clocked_s / room : 1.0;
    }
    samples.push_back(s);
    labels.push_back(c.label);
    boost.push_back(a);
    measured_s.push_back(c.seconds);
  }
  if (samples.empty() || table.idle_w <= 0.0) return;
  auto predicted_w = [&](const PowerSample& s, const std::vector<double>& coef, double exponent) {
    return table.idle_w + coef[0] * s.busy_fraction + coef[1] * s.compute_fraction * std::pow(s.clock_fraction, exponent - 1.0) +
           coef[2] * s.memory_fraction;
  };
  double best_rms = 1e300, best_exponent = kDefaultDvfsExponent;
  std::vector<double> best;
  std::string scan = "power rms by DVFS exponent:";
  for (int step = 0; step <= kDvfsExponentSteps; ++step) {
    const double exponent = kDvfsExponentMin + (kDvfsExponentMax - kDvfsExponentMin) * step / kDvfsExponentSteps;
    const std::vector<double> coef = fit_activity_power(samples, table.idle_w, exponent);
    double sum = 0.0;
    for (const PowerSample& s : samples) sum += std::pow(predicted_w(s, coef, exponent) / s.watts - 1.0, 2);
    {
      char text[96];
      std::snprintf(text, sizeof text, " %.1f: %.2f%% (compute %.0f W)", exponent,
                    100.0 * std::sqrt(sum / static_cast<double>(samples.size())), coef[1]);
      scan += text;
    }
    if (sum < best_rms - 1e-12) {
      best_rms = sum;
      best_exponent = exponent;
      best = coef;
    }
  }
  eff->power_active_w = best[0];
  eff->power_compute_w = best[1];
  eff->power_memory_w = best[2];
  eff->power_dvfs_exponent = best_exponent;
  FitQuality q;
  char name[160];
  std::snprintf(name, sizeof name, "power (idle %.1f W measured, DVFS exponent %.1f)", table.idle_w, best_exponent);
  q.curve = name;
  q.points = static_cast<int>(samples.size());
  double sum = 0.0;
  const ActivityPowerModel power(activity_power_for([&] {
    GpuSpec gpu = node.gpu;
    gpu.efficiency = *eff;
    return gpu;
  }()));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const PowerSample& s = samples[i];
    const double w = predicted_w(s, best, best_exponent);
    const double e = w / s.watts - 1.0;
    sum += e * e;
    q.max_relative_error = std::max(q.max_relative_error, std::fabs(e));
    const GpuActivity limited = power.at_power_limit(boost[i]);
    char row[320];
    std::snprintf(row, sizeof row,
                  "%-32s %6.1f W measured, %6.1f W fitted; clock %.3f from its time (%s); at the %.0f W limit the "
                  "model runs it at clock %.3f: %.2f ms against %.2f ms measured",
                  labels[i].c_str(), s.watts, w, s.clock_fraction, s.clock_fraction < 1.0 ? "power-limited" : "below the limit",
                  limit_w, limited.clock_fraction, limited.seconds * 1e3, measured_s[i] * 1e3);
    q.rows.emplace_back(row);
  }
  q.rows.push_back(scan);
  q.rms_relative_error = std::sqrt(sum / static_cast<double>(samples.size()));
  quality->push_back(q);
}

// The host cost of one eager launch from whole-model iterations launched op by op,
// when the file has host-bound ones: launches from the reference-eager profile on
// the measured model's shapes. They time exactly what an eager iteration pays, so
// they take precedence over the engine layer and the tiny-op loop.
double fit_eager(const std::string& path, const NodeSpec& node, std::vector<FitQuality>* quality) {
  const WholeModelTable table = read_whole_model(path);
  if (table.cases.empty()) return 0.0;
  Deployment deployment;
  deployment.node = node;
  deployment.model = table.model;
  deployment.engine = load_engine("reference-eager");
  const OpLevelExecutionModel model(deployment);  // launch counts only: no efficiency needed
  std::vector<EagerIterationSample> samples;
  for (const WholeModelCase& c : table.cases) {
    if (c.kind != "eager") continue;
    samples.push_back(EagerIterationSample{c.label, static_cast<double>(model.launches(c.batch)), c.seconds,
                                           c.graph_seconds});
  }
  FitQuality q;
  const double c = fit_eager_launch(samples, &q);
  if (c > 0.0) quality->push_back(q);
  return c;
}

// The eager host cost per op was measured on the reference engine's own layer;
// an eager iteration pays it once per launch the engine profile describes, so
// the two counts should agree.
void check_eager_op_count(const Microbench& bench) {
  const int64_t described = launches_per_layer(load_engine("reference-eager"));
  std::fprintf(stderr,
               "calibrate: eager launch %.2f us per op from the reference engine layer (%.0f ops, %.1f us per layer; "
               "tiny-op loop %.2f us)\n",
               bench.eager_engine_op_s * 1e6, bench.eager_engine_ops_per_layer, bench.eager_engine_layer_s * 1e6,
               bench.eager_launch_s * 1e6);
  const double difference = bench.eager_engine_ops_per_layer / static_cast<double>(described) - 1.0;
  if (std::fabs(difference) > kOpCountTolerance) {
    std::fprintf(stderr,
                 "calibrate: warning: the measured reference engine layer launches %.0f ops, the reference-eager "
                 "profile describes %lld per layer (%+.0f%%); eager host time is launches x %.2f us, so check the "
                 "profile's launch counts\n",
                 bench.eager_engine_ops_per_layer, static_cast<long long>(described), difference * 100.0,
                 bench.eager_engine_op_s * 1e6);
  }
}

// Fits alpha-beta to `samples` (when there are any) and writes the latency and bandwidth under their keys.
void put_alpha_beta(nlohmann::json& result, const std::vector<CollectiveSample>& samples, Collective collective,
                    const char* latency_key, const char* bandwidth_key) {
  if (samples.empty()) return;
  const auto [alpha, bytes_per_s] = fit_alpha_beta(samples, collective);
  char text[64];
  std::snprintf(text, sizeof text, "%.3g us", alpha * 1e6);
  result[latency_key] = text;
  std::snprintf(text, sizeof text, "%.4g GB/s", bytes_per_s / 1e9);
  result[bandwidth_key] = text;
}

// Point-to-point rows between two GPUs (of one node, or one on each of two nodes).
std::vector<CollectiveSample> pairs(const std::string& path, NcclRows which) {
  std::vector<CollectiveSample> out;
  for (const CollectiveSample& s : read_nccl_csv(path, which)) {
    if (s.ranks == 2) out.push_back(s);
  }
  return out;
}

int calibrate_nccl(const std::string& dir, const std::string& out) {
  nlohmann::json result;
  const auto all_reduce = read_nccl_csv(dir + "/all_reduce.csv", NcclRows::kIntraNode);
  put_alpha_beta(result, all_reduce, Collective::kAllReduce, "allreduce_latency", "allreduce_bus_bandwidth");
  const auto send_recv = pairs(dir + "/send_recv.csv", NcclRows::kIntraNode);
  put_alpha_beta(result, send_recv, Collective::kSendRecv, "send_recv_latency", "send_recv_bandwidth");
  // Between two nodes (one GPU on each): what a pipeline stage boundary across nodes pays.
  const auto inter_node = pairs(dir + "/send_recv.csv", NcclRows::kInterNode);
  put_alpha_beta(result, inter_node, Collective::kSendRecv, "inter_node_send_recv_latency",
                 "inter_node_send_recv_bandwidth");
  // Ring all-reduce among nodes with one GPU on each: the per-NIC ring that collectives spanning nodes
  // run one channel of per GPU (models/comm/impl/alpha_beta.cc).
  std::vector<CollectiveSample> nic_ring;
  for (const CollectiveSample& s : read_nccl_csv(dir + "/all_reduce.csv", NcclRows::kInterNode)) {
    if (s.nodes == s.ranks) nic_ring.push_back(s);
  }
  put_alpha_beta(result, nic_ring, Collective::kAllReduce, "inter_node_allreduce_latency",
                 "inter_node_allreduce_bus_bandwidth");
  result["collectives_source"] = "servesim calibrate --nccl " + dir + ": intra-node rows (" +
                                 std::to_string(all_reduce.size()) + " all-reduce, " +
                                 std::to_string(send_recv.size()) + " send/recv)" +
                                 (inter_node.empty() ? std::string()
                                                     : ", inter-node rows (" + std::to_string(inter_node.size()) +
                                                           " send/recv, one GPU per node)") +
                                 (nic_ring.empty() ? std::string()
                                                   : ", inter-node all-reduce rows with one GPU per node (" +
                                                         std::to_string(nic_ring.size()) + ")") +
                                 ", median times";
  const std::string text_out = result.dump(1) + "\n";
  if (out.empty()) {
    std::fputs(text_out.c_str(), stdout);
  } else {
    write_output_file(out, text_out);
  }
  return 0;
}

// The CPU catalog's iteration_overhead and sequence_overhead from a Vidur cpu_overheads.csv: the
// single-process rows (tensor_parallel_degree 1); rows at TP > 1 also pay Ray's per-step broadcast to
// the workers, which the catalog does not model (their own fit is printed for comparison).
int calibrate_cpu_overheads(const std::string& path, const std::string& out) {
  const std::vector<HostOverheadSample> rows = read_cpu_overheads_csv(path);
  std::vector<HostOverheadSample> single, multi;
  for (const HostOverheadSample& s : rows) (s.tensor_parallel == 1 ? single : multi).push_back(s);
  const HostOverheadFit fit = fit_host_overhead(single);
  if (fit.points == 0) {
    throw ConfigError::at(path, "needs rows at tensor_parallel_degree 1 with at least two batch sizes");
  }
  auto describe = [](const HostOverheadFit& f) {
    char text[160];
    std::snprintf(text, sizeof text, "%zu rows: %.4g ms + %.4g us per sequence, rms error %.1f %%, max %.1f %%",
                  f.points, f.iteration_s * 1e3, f.sequence_s * 1e6, 100.0 * f.rms_relative_error,
                  100.0 * f.max_relative_error);
    return std::string(text);
  };
  nlohmann::json result;
  char text[64];
  std::snprintf(text, sizeof text, "%.4g ms", fit.iteration_s * 1e3);
  result["iteration_overhead"] = text;
  std::snprintf(text, sizeof text, "%.4g us", fit.sequence_s * 1e6);
  result["sequence_overhead"] = text;
  std::string source = "servesim calibrate --cpu-overheads " + path +
                       ": least squares of schedule + prepare_inputs_e2e + sampler_e2e + process_model_outputs "
                       "(medians) on the batch size, tensor_parallel_degree 1 (" +
                       describe(fit) + ")";
  const HostOverheadFit multi_fit = fit_host_overhead(multi);
  if (multi_fit.points > 0) source += "; not used, TP > 1 (Ray workers): " + describe(multi_fit);
  result["source"] = source;
  const std::string text_out = result.dump(1) + "\n";
  if (out.empty()) {
    std::fputs(text_out.c_str(), stdout);
  } else {
    write_output_file(out, text_out);
  }
  return 0;
}

int run_calibrate(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  std::string file, out, hardware, nccl, fp8, cpu_overheads;
  bool verbose = false;
  options.add_options()("file", po::value<std::string>(&file), "microbenchmark JSON")(
      "out", po::value<std::string>(&out), "write the calibration here (default: stdout)")(
      "hardware", po::value<std::string>(&hardware),
      "hardware catalog entry whose datasheet the power coefficients refer to (default: from the file's GPU name)")(
      "verbose", po::bool_switch(&verbose), "print every fitted point (measured vs fitted)")(
      "fp8", po::value<std::string>(&fp8),
      "also fit the FP8 GEMM curve to this file's \"gemm_fp8\" table (same GPU; e.g. "
      "../shared/calibration/h200_fp8_gemm.json)")(
      "nccl", po::value<std::string>(&nccl),
      "instead: fit the alpha-beta collective model to DIR/all_reduce.csv and DIR/send_recv.csv (Vidur layout)")(
      "cpu-overheads", po::value<std::string>(&cpu_overheads),
      "instead: fit a CPU entry's iteration_overhead and sequence_overhead to a Vidur cpu_overheads.csv");
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vars;
  if (!parse_command_line("calibrate", "MICROBENCH.json [--out FILE] | --nccl DIR | --cpu-overheads CSV",
                          "Fits a GPU's efficiency curves (GEMM, prefill and decode attention, elementwise\n"
                          "bandwidth, launch costs) to microbenchmarks by least squares, and its power\n"
                          "coefficients to the file's energy table when it has one. Of whole-model\n"
                          "iteration times only host-bound eager ones are used (the host cost of one\n"
                          "launch). Writes a calibration that a GPU entry of hardware/catalog names with\n"
                          "\"calibration\" (models/execution/calibrations/NAME.json).",
                          options, positional, args, &vars)) {
    return 0;
  }
  if (!nccl.empty()) return calibrate_nccl(nccl, out);
  if (!cpu_overheads.empty()) return calibrate_cpu_overheads(cpu_overheads, out);
  if (file.empty()) throw ConfigError::at("calibrate", "missing MICROBENCH.json (or --nccl DIR)");
  Microbench bench = read_microbench(file);
  if (hardware.empty()) hardware = guess_hardware(bench.gpu);
  if (hardware.empty()) {
    throw ConfigError::at(file, "cannot tell which hardware catalog entry '" + bench.gpu + "' is; pass --hardware");
  }
  const NodeSpec node = load_node(hardware, false);
  std::vector<FitQuality> quality;
  std::vector<FitQuality> eager_quality;
  bench.eager_iterations_op_s = fit_eager(file, node, &eager_quality);
  GpuEfficiency eff = fit_efficiency(bench, node.gpu, &quality);
  if (bench.eager_engine_op_s > 0.0) check_eager_op_count(bench);
  if (bench.gemm_gpu_only || bench.prefill_attention_gpu_only || bench.decode_attention_gpu_only) {
    // Fitted to graph-replayed times, these fixed terms are GPU time: the file marks
    // them "gpu_time" and iterations keep them.
    std::fprintf(stderr,
                 "calibrate: note: GPU-only (CUDA-graph) fit; fixed terms kept inside iterations: memory-bound "
                 "GEMM %.2f us, prefill attention %.2f us, decode attention %.2f us\n",
                 eff.gemm_memory_latency_s * 1e6, eff.attention_prefill_latency_s * 1e6,
                 eff.attention_decode_latency_s * 1e6);
  }
  std::string fp8_name;
  if (!fp8.empty()) {
    const Fp8GemmBench fp8_bench = read_fp8_gemm_bench(fp8);
    if (fp8_bench.gpu != bench.gpu) {
      throw ConfigError::at_pointer(fp8, "/env/gpu", "GPU '" + fp8_bench.gpu + "' differs from " + file + "'s '" +
                                                         bench.gpu + "': the FP8 curve keeps its memory regime");
    }
    FitQuality fp8_quality;
    eff.gemm_fp8 = fit_fp8_gemm(fp8_bench, bench.sms, eff, node.gpu, &fp8_quality);
    quality.push_back(fp8_quality);
    fp8_name = fp8.substr(fp8.find_last_of('/') == std::string::npos ? 0 : fp8.find_last_of('/') + 1);
  }
  if (eff.power_limit_w <= 0.0) eff.power_limit_w = node.gpu.tdp_w;
  fit_power(file, node, &eff, &quality);
  quality.insert(quality.end(), eager_quality.begin(), eager_quality.end());
  for (const FitQuality& q : quality) {
    std::fprintf(stderr, "calibrate: %-36s %2d points, rms %.1f%%, max %.1f%%\n", q.curve.c_str(), q.points,
                 q.rms_relative_error * 100.0, q.max_relative_error * 100.0);
    if (verbose) {
      for (const std::string& row : q.rows) std::fprintf(stderr, "    %s\n", row.c_str());
    }
  }
  std::string name = file;
  const auto slash = name.find_last_of('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  if (!fp8_name.empty()) name += " + " + fp8_name;
  const nlohmann::json json = calibration_to_json(eff, bench.gpu, quality, name);
  const std::string text = json.dump(1) + "\n";
  if (out.empty()) {
    std::fputs(text.c_str(), stdout);
  } else {
    write_output_file(out, text);
  }
  return 0;
}

}  // namespace

SERVESIM_COMMAND("calibrate", "fit efficiency curves and power coefficients from GPU microbenchmarks", run_calibrate);

}  // namespace servesim

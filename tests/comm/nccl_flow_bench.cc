// NCCL benchmark (not a test): predicts Vidur's public NCCL timings
// (../shared/data/profiling/vidur/network/<node>/{all_reduce,send_recv}.csv, intra-node rows,
// median of each (GPUs, size)) with the flow collectives run on an Engine (one non-blocking switch
// per node, every GPU with an up and a down link of the fabric's raw per-direction bandwidth, no
// wire latency: flow's step latency holds every fixed cost) and with alpha-beta's closed form.
//   h100_dgx: NVLink 4 (450 GB/s), a100_dgx: NVLink 3 (300 GB/s); flow's launch and step latency
//             and efficiency curve are each fabric's catalog numbers, which are its file's fit
//             (fit_flow, printed here next to the catalog values): in-sample, as alpha-beta's.
//   Held out: each file's 8-GPU rows from a fit of its 2- and 4-GPU rows, and the A100 file
//             with the H100 fit.
// The *_pairwise_nvlink files (NVLink between GPU pairs only) need a topology this benchmark does
// not build and are left out. Prints file, collective, GPUs, size, measured, flow, alpha-beta and
// both errors, then the median and max |error| per file, collective and GPU count, per file and
// overall. Usage: nccl_flow_bench [--summary] [VIDUR_NETWORK_DIR]
//   (default: $SERVESIM_HOME/../shared/data/profiling/vidur/network)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "models/comm/impl/flow.h"
#include "models/comm/nccl_csv.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"
#include "sim/core/engine.h"

namespace servesim {
namespace {

constexpr int kGpusPerNode = 8;
constexpr double kTargetMedianError = 0.15;  // flow all-reduce, the brief's target

struct NodeCase {
  const char* file;    // folder under network/
  const char* fabric;  // our fabric catalog entry for its raw bandwidth and alpha-beta fit
};
const NodeCase kNodes[] = {{"h100_dgx", "nvlink4-nvswitch"}, {"a100_dgx", "nvlink3-nvswitch"}};

// One switch per node case; endpoints "<file>/gpu<i>".
PlatformSpec platform(const std::vector<FabricSpec>& fabrics) {
  PlatformSpec spec;
  for (std::size_t c = 0; c < fabrics.size(); ++c) {
    std::vector<std::string> names;
    for (int i = 0; i < kGpusPerNode; ++i) names.push_back(std::string(kNodes[c].file) + "/gpu" + std::to_string(i));
    for (const std::string& name : names) {
      spec.endpoints.push_back(name);
      spec.links.push_back({name + "/up", fabrics[c].bytes_per_s, 0.0});
      spec.links.push_back({name + "/down", fabrics[c].bytes_per_s, 0.0});
    }
    for (const std::string& src : names) {
      for (const std::string& dst : names) {
        if (src != dst) spec.routes.push_back({src, dst, {src + "/up", dst + "/down"}, false});
      }
    }
  }
  return spec;
}

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 == 1 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

double max_of(const std::vector<double>& values) {
  return values.empty() ? NAN : *std::max_element(values.begin(), values.end());
}

// Flow on `fabric`'s links with the numbers of `fit` instead of the fabric's own.
FlowCollectives with_fit(const FabricSpec& fabric, const FlowFit& fit) {
  FlowParams params = flow_params_for(fabric);
  params.launch_latency_s = fit.launch_latency_s;
  params.step_latency_s = fit.step_latency_s;
  params.efficiency = fit.efficiency;
  params.efficiency_half_ranks = fit.efficiency_half_ranks;
  return FlowCollectives(params);
}

// |relative error| of `flow`'s closed form on each all-reduce sample.
std::vector<double> all_reduce_errors(const FlowCollectives& flow, const std::vector<CollectiveSample>& samples) {
  std::vector<double> errors;
  for (const CollectiveSample& s : samples) {
    errors.push_back(std::fabs(flow.seconds(Collective::kAllReduce, s.bytes, s.ranks) / s.seconds - 1.0));
  }
  return errors;
}

struct Errors {
  std::vector<double> flow, tree, alpha_beta;  // |relative error|
};

void print_errors(const char* label, const Errors& e) {
  std::printf("%-34s %6zu  %7.1f %7.1f  %7.1f %7.1f  %7.1f %7.1f\n", label, e.flow.size(), 100 * median(e.flow),
              100 * max_of(e.flow), 100 * median(e.tree), 100 * max_of(e.tree), 100 * median(e.alpha_beta),
              100 * max_of(e.alpha_beta));
}

// All-reduce rows spanning nodes (only a100_dgx has them: 2, 4, 8 and 16 GPUs with 1, 2, 4 and 8 per node)
// against alpha-beta across nodes (one ring channel per GPU of a node through its own NIC): the rows with one
// GPU per node are the fit of the fabric's inter-node all-reduce numbers (in-sample); the rest check how the
// channels scale with GPUs per node (held out).
void across_nodes(const std::string& dir, const std::vector<FabricSpec>& fabrics) {
  std::printf("\nall-reduce across nodes, alpha-beta (median |error| per GPUs x GPUs per node)\n");
  std::printf("%-9s %5s %9s %6s %9s %9s  %s\n", "file", "GPUs", "per node", "rows", "med %", "max %", "");
  for (std::size_t c = 0; c < fabrics.size(); ++c) {
    const std::string path = dir + "/" + kNodes[c].file + "/all_reduce.csv";
    if (!std::filesystem::exists(path)) continue;
    const AlphaBetaCollectives alpha_beta(alpha_beta_for(fabrics[c]));
    std::map<std::pair<int64_t, int64_t>, std::vector<double>> errors;
    for (const CollectiveSample& s : read_nccl_csv(path, NcclRows::kInterNode)) {
      const double predicted = alpha_beta.seconds(Collective::kAllReduce, s.bytes, s.ranks, s.nodes);
      errors[{s.ranks, s.ranks / s.nodes}].push_back(std::fabs(predicted / s.seconds - 1.0));
    }
    for (auto& [key, e] : errors) {
      std::printf("%-9s %5lld %9lld %6zu %9.1f %9.1f  %s\n", kNodes[c].file, static_cast<long long>(key.first),
                  static_cast<long long>(key.second), e.size(), 100 * median(e),
                  100 * *std::max_element(e.begin(), e.end()),
                  key.second == 1 ? "[in-sample: the inter-node fit's rows]" : "[held out]");
    }
  }
}

int run(int argc, char** argv) {
  bool summary_only = false;
  std::string dir = servesim_home() + "/../shared/data/profiling/vidur/network";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--summary") == 0) {
      summary_only = true;
    } else {
      dir = argv[i];
    }
  }
  if (!std::filesystem::is_directory(dir)) {
    std::printf("nccl_flow_bench: skipped: no NCCL timings at %s (the shared data folder is absent)\n", dir.c_str());
    return 0;
  }

  std::vector<FabricSpec> fabrics;
  for (const NodeCase& node : kNodes) fabrics.push_back(load_fabric(node.fabric));

  // Each fabric's flow numbers are its own file's fit, printed beside the catalog's (in-sample).
  // Held out: each file's n = 8 rows predicted by a fit of its n = 2 and 4 rows (and send/recv),
  // and the A100 file predicted with the H100 fit (another GPU, another NVLink generation).
  std::map<std::string, FlowFit> fits;
  for (std::size_t c = 0; c < fabrics.size(); ++c) {
    const std::string fit_dir = dir + "/" + kNodes[c].file;
    std::vector<CollectiveSample> send_recv;
    for (const CollectiveSample& s : read_nccl_csv(fit_dir + "/send_recv.csv", NcclRows::kIntraNode)) {
      if (s.ranks == 2) send_recv.push_back(s);
    }
    const auto all_reduce = read_nccl_csv(fit_dir + "/all_reduce.csv", NcclRows::kIntraNode);
    const FabricSpec& f = fabrics[c];
    const FlowFit fit = fit_flow(all_reduce, send_recv, f.bytes_per_s);
    const FlowFit two_term = fit_flow(all_reduce, send_recv, f.bytes_per_s, /*with_launch=*/false);
    fits[kNodes[c].file] = fit;
    std::printf("flow fit on %s intra-node rows (%zu all-reduce, %zu send/recv) at %.0f GB/s: launch %.3f us, "
                "step %.3f us, efficiency %.4f x n / (n + %.3f) (two-term fit: step %.3f us, efficiency %.4f); "
                "catalog %s: %.3f us, %.3f us, %.4f, %.3f\n",
                kNodes[c].file, all_reduce.size(), send_recv.size(), f.bytes_per_s / 1e9, fit.launch_latency_s * 1e6,
                fit.step_latency_s * 1e6, fit.efficiency, fit.efficiency_half_ranks, two_term.step_latency_s * 1e6,
                two_term.efficiency, kNodes[c].fabric, f.flow_launch_latency_s * 1e6, f.flow_step_latency_s * 1e6,
                f.flow_efficiency, f.flow_efficiency_half_ranks);
    if (f.flow_step_latency_s <= 0.0 || f.flow_efficiency <= 0.0) {
      std::fprintf(stderr, "nccl_flow_bench: error: fabric %s has no flow fit\n", kNodes[c].fabric);
      return 2;
    }
    std::vector<CollectiveSample> small_rings, eight;
    for (const CollectiveSample& s : all_reduce) (s.ranks <= 4 ? small_rings : eight).push_back(s);
    const std::vector<double> errors =
        all_reduce_errors(with_fit(f, fit_flow(small_rings, send_recv, f.bytes_per_s)), eight);
    std::printf("  held out: %s 8-GPU all-reduce (%zu rows) from the fit of its 2- and 4-GPU rows: median |error| "
                "%.1f %%, max %.1f %%\n",
                kNodes[c].file, errors.size(), 100 * median(errors), 100 * max_of(errors));
  }
  {
    const std::vector<double> errors =
        all_reduce_errors(with_fit(fabrics[1], fits[kNodes[0].file]),
                          read_nccl_csv(dir + "/" + kNodes[1].file + "/all_reduce.csv", NcclRows::kIntraNode));
    std::printf("  held out: %s all-reduce (%zu rows) with the %s fit on %s's raw bandwidth: median |error| %.1f %%, "
                "max %.1f %%\n\n",
                kNodes[1].file, errors.size(), kNodes[0].file, kNodes[1].fabric, 100 * median(errors),
                100 * max_of(errors));
  }

  Engine engine(platform(fabrics));
  std::map<std::string, Errors> groups;  // "<file> <collective> n=<GPUs>", "<file> all", "all"
  double worst_engine_vs_closed_form = 0.0;
  if (!summary_only) {
    std::printf("%-9s %-10s %4s %12s %12s %12s %12s %8s %8s\n", "file", "collective", "GPUs", "size (B)",
                "measured us", "flow us", "alpha-beta us", "flow %", "a-b %");
  }
  for (std::size_t c = 0; c < fabrics.size(); ++c) {
    const FlowParams params = flow_params_for(fabrics[c]);  // the fabric's own fit
    FlowCollectives flow(params);
    FlowParams tree_params = params;
    tree_params.all_reduce = FlowAllReduceAlgorithm::kTree;
    const FlowCollectives tree(tree_params);
    const AlphaBetaCollectives alpha_beta(alpha_beta_for(fabrics[c]));
    std::vector<EndpointId> gpus;
    for (int i = 0; i < kGpusPerNode; ++i) {
      gpus.push_back(engine.endpoint(std::string(kNodes[c].file) + "/gpu" + std::to_string(i)));
    }
    const std::string base = std::string(dir) + "/" + kNodes[c].file;
    for (Collective collective : {Collective::kAllReduce, Collective::kSendRecv}) {
      const bool is_all_reduce = collective == Collective::kAllReduce;
      const std::string path = base + (is_all_reduce ? "/all_reduce.csv" : "/send_recv.csv");
      if (!std::filesystem::exists(path)) continue;
      for (const CollectiveSample& s : read_nccl_csv(path, NcclRows::kIntraNode)) {
        if (s.ranks > kGpusPerNode || (!is_all_reduce && s.ranks != 2)) continue;
        const std::vector<EndpointId> group(gpus.begin(), gpus.begin() + s.ranks);
        const double start = engine.now();
        double end = -1.0;
        flow.start(engine, collective, group, 1, s.bytes, 1, [&] { end = engine.now(); });
        engine.run();
        const double flow_s = end - start;
        const double closed_form_s = flow.seconds(collective, s.bytes, s.ranks);
        worst_engine_vs_closed_form = std::max(worst_engine_vs_closed_form, std::fabs(flow_s / closed_form_s - 1.0));
        const double tree_s = tree.seconds(collective, s.bytes, s.ranks);
        const double alpha_beta_s = alpha_beta.seconds(collective, s.bytes, s.ranks);
        const double flow_error = flow_s / s.seconds - 1.0;
        const double alpha_beta_error = alpha_beta_s / s.seconds - 1.0;
        if (!summary_only) {
          std::printf("%-9s %-10s %4lld %12.0f %12.1f %12.1f %12.1f %+8.1f %+8.1f\n", kNodes[c].file,
                      collective_name(collective), static_cast<long long>(s.ranks), s.bytes, s.seconds * 1e6,
                      flow_s * 1e6, alpha_beta_s * 1e6, 100 * flow_error, 100 * alpha_beta_error);
        }
        const std::string file = kNodes[c].file;
        for (const std::string& key :
             {file + " " + collective_name(collective) + " n=" + std::to_string(s.ranks),
              file + " " + collective_name(collective), file + " all rows", std::string("all files ") +
              collective_name(collective), std::string("all files all rows")}) {
          Errors& e = groups[key];
          e.flow.push_back(std::fabs(flow_error));
          e.tree.push_back(std::fabs(tree_s / s.seconds - 1.0));
          e.alpha_beta.push_back(std::fabs(alpha_beta_error));
        }
      }
    }
  }

  std::printf("\n|error| %% (flow: engine run, ring all-reduce; tree: flow's tree closed form; alpha-beta: closed form)\n");
  std::printf("%-34s %6s  %7s %7s  %7s %7s  %7s %7s\n", "group", "rows", "flow med", "max", "tree med", "max",
              "a-b med", "max");
  for (const auto& [key, errors] : groups) print_errors(key.c_str(), errors);
  std::printf("\nengine run vs flow closed form: max |difference| %.2e (relative)\n", worst_engine_vs_closed_form);
  for (const NodeCase& node : kNodes) {
    auto it = groups.find(std::string(node.file) + " all-reduce");
    if (it == groups.end()) continue;
    const double m = median(it->second.flow);
    std::printf("flow all-reduce median |error| on %s: %.1f %% (target <= %.0f %%: %s)%s\n", node.file, 100 * m,
                100 * kTargetMedianError, m <= kTargetMedianError ? "met" : "NOT met",
                " [in-sample: the fabric's fit of this file; held-out checks above]");
  }
  across_nodes(dir, fabrics);
  return 0;
}

}  // namespace
}  // namespace servesim

int main(int argc, char** argv) {
  try {
    return servesim::run(argc, argv);
  } catch (const servesim::ConfigError& e) {
    std::fprintf(stderr, "nccl_flow_bench: error: %s\n", e.what());
    return 2;
  }
}

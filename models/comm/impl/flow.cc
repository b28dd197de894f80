#include "models/comm/impl/flow.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <Eigen/Dense>

#include "sim/core/registry.h"

namespace servesim {
namespace {

// NCCL's typical bus efficiency on NVLink (as alpha-beta's fallback) for fabrics without a flow fit.
constexpr double kDefaultEfficiency = 0.8;

FlowStep ring_step(double chunk_bytes, int64_t ranks) {
  FlowStep step;
  for (int64_t i = 0; i < ranks; ++i) step.push_back({i, (i + 1) % ranks, chunk_bytes});
  return step;
}

// NCCL-style rings across nodes: `g` channels of chunk_bytes / g each over all ranks, channel c
// leaving each node through a different local rank (see flow.h); chunks between the same pair merged.
FlowStep channel_ring_step(double chunk_bytes, int64_t ranks, int64_t nodes) {
  const int64_t g = ranks / nodes;
  std::map<std::pair<int64_t, int64_t>, double> merged;
  std::vector<int64_t> order;
  order.reserve(static_cast<std::size_t>(ranks));
  for (int64_t c = 0; c < g; ++c) {
    order.clear();
    for (int64_t k = 0; k < nodes; ++k) {
      for (int64_t j = 0; j < g; ++j) {
        const int64_t local = k % 2 == 0 ? (c + j) % g : ((c - 1 - j) % g + 2 * g) % g;
        order.push_back(k * g + local);
      }
    }
    for (std::size_t i = 0; i < order.size(); ++i) {
      merged[{order[i], order[(i + 1) % order.size()]}] += chunk_bytes / static_cast<double>(g);
    }
  }
  FlowStep step;
  for (const auto& [pair, bytes] : merged) step.push_back({pair.first, pair.second, bytes});
  return step;
}

// Heap-ordered binary tree: rank i's parent is (i-1)/2; level l holds ranks 2^l - 1 .. 2^(l+1) - 2.
std::vector<FlowStep> tree_all_reduce_steps(double bytes, int64_t ranks) {
  std::vector<FlowStep> levels;  // levels[l-1]: child -> parent chunks of level l
  for (int64_t first = 1, width = 2; first < ranks; first += width, width *= 2) {
    FlowStep level;
    for (int64_t child = first; child < std::min(ranks, first + width); ++child) {
      level.push_back({child, (child - 1) / 2, bytes});
    }
    levels.push_back(std::move(level));
  }
  std::vector<FlowStep> steps(levels.rbegin(), levels.rend());  // reduce: deepest level first
  for (const FlowStep& level : levels) {                        // broadcast: root first
    FlowStep down;
    for (const FlowChunk& chunk : level) down.push_back({chunk.dst, chunk.src, chunk.bytes});
    steps.push_back(std::move(down));
  }
  return steps;
}

// Step count and the sum over steps of each step's busiest-link payload (bytes): the closed form is
// steps x step_latency + load / (B x efficiency).
std::pair<double, double> closed_form_terms(Collective collective, FlowAllReduceAlgorithm all_reduce, double bytes,
                                            int64_t ranks) {
  const std::vector<FlowStep> steps = flow_steps(collective, all_reduce, bytes, ranks);
  double load = 0.0;
  for (const FlowStep& step : steps) {
    std::map<int64_t, double> up;    // bytes leaving each rank
    std::map<int64_t, double> down;  // bytes arriving at each rank
    double busiest = 0.0;
    for (const FlowChunk& chunk : step) {
      busiest = std::max({busiest, up[chunk.src] += chunk.bytes, down[chunk.dst] += chunk.bytes});
    }
    load += busiest;
  }
  return {static_cast<double>(steps.size()), load};
}

// One start(): the steps still to run and the transfers of the current one still in flight.
struct FlowRun {
  Engine* engine = nullptr;
  std::vector<FlowStep> steps;
  std::vector<EndpointId> group;
  double wire_scale = 1.0;  // count / efficiency
  double launch_s = 0.0;    // count x launch_latency, before the first step
  double wait_s = 0.0;      // count x step_latency
  std::size_t next = 0;
  std::size_t in_flight = 0;
  std::function<void()> on_done;
};

void launch_step(const std::shared_ptr<FlowRun>& run);

// Runs after the previous step's last transfer landed: the next step's fixed cost, then its transfers.
void begin_step(const std::shared_ptr<FlowRun>& run) {
  if (run->next == run->steps.size()) {
    run->on_done();
    return;
  }
  // The step's fixed cost includes the wire latency of its routes (step_latency was fitted on links
  // without latency), which the engine adds to each transfer: wait only for the rest.
  double route_s = 0.0;
  for (const FlowChunk& chunk : run->steps[run->next]) {
    route_s = std::max(route_s, run->engine->route_latency(run->group[static_cast<std::size_t>(chunk.src)],
                                                           run->group[static_cast<std::size_t>(chunk.dst)]));
  }
  double wait_s = run->wait_s - route_s;
  if (run->next == 0) wait_s = std::max(wait_s, 0.0) + run->launch_s;
  if (wait_s > 0.0) {
    run->engine->schedule_at(run->engine->now() + wait_s, kPhaseCompletion, [run] { launch_step(run); });
  } else {
    launch_step(run);
  }
}

void launch_step(const std::shared_ptr<FlowRun>& run) {
  const FlowStep& step = run->steps[run->next++];
  run->in_flight = step.size();
  for (const FlowChunk& chunk : step) {
    run->engine->transfer(run->group[static_cast<std::size_t>(chunk.src)],
                          run->group[static_cast<std::size_t>(chunk.dst)], chunk.bytes * run->wire_scale, [run] {
                            if (--run->in_flight == 0) begin_step(run);
                          });
  }
}

ParamSpecs flow_specs() {
  return {ParamSpec::choice("algorithm", "ring", {"ring", "tree"},
                            "all-reduce steps: ring (2(n-1) steps of S/n) or one binary tree (reduce then broadcast)"),
          ParamSpec::quantity("launch_latency", Dimension::kSeconds, "0 s",
                              "fixed cost of each collective before its first step (kernel launch, channel "
                              "setup); 0 = the fabric's flow fit",
                              true),
          ParamSpec::quantity("step_latency", Dimension::kSeconds, "0 s",
                              "fixed cost before each step's transfers; 0 = the fabric's flow fit", true),
          ParamSpec::number("efficiency", 0.0, 0.0, 1.0,
                            "payload / bytes on the wire in a large ring, in (0, 1]; 0 = the fabric's flow fit"),
          ParamSpec::number("efficiency_half_ranks", -1.0, -1.0, 1024.0,
                            "ring size h at which efficiency is halved: at n GPUs efficiency x n / (n + h); "
                            "-1 = the fabric's flow fit"),
          ParamSpec::boolean("fuse_steps", false,
                             "ring collectives' identical steps as one flow per link (same time on idle links, "
                             "fewer events, contention averaged over the collective)")};
}

}  // namespace

std::vector<FlowStep> flow_steps(Collective collective, FlowAllReduceAlgorithm all_reduce, double bytes,
                                 int64_t ranks, int64_t nodes) {
  std::vector<FlowStep> steps;
  if (ranks < 2) return steps;
  assert(nodes >= 1 && ranks % nodes == 0 && "a group spanning nodes fills them evenly");
  const double chunk = bytes / static_cast<double>(ranks);
  const bool channels = nodes > 1 && ranks > nodes;  // one rank per node: the plain ring is rail-aligned
  const FlowStep ring = channels ? channel_ring_step(chunk, ranks, nodes) : FlowStep{};
  switch (collective) {
    case Collective::kAllReduce:
      if (all_reduce == FlowAllReduceAlgorithm::kTree) return tree_all_reduce_steps(bytes, ranks);
      steps.assign(static_cast<std::size_t>(2 * (ranks - 1)), channels ? ring : ring_step(chunk, ranks));
      return steps;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
      steps.assign(static_cast<std::size_t>(ranks - 1), channels ? ring : ring_step(chunk, ranks));
      return steps;
    case Collective::kAllToAll:
      for (int64_t k = 1; k < ranks; ++k) {
        FlowStep step;
        for (int64_t i = 0; i < ranks; ++i) step.push_back({i, (i + k) % ranks, chunk});
        steps.push_back(std::move(step));
      }
      return steps;
    case Collective::kSendRecv:
    case Collective::kSendRecvAcrossNodes:
      steps.push_back({{0, 1, bytes}});
      return steps;
  }
  return steps;
}

FlowParams flow_params_for(const FabricSpec& fabric) {
  FlowParams params;
  params.launch_latency_s = fabric.flow_launch_latency_s;
  params.step_latency_s = fabric.flow_step_latency_s > 0.0 ? fabric.flow_step_latency_s : fabric.latency_s;
  params.efficiency = fabric.flow_efficiency > 0.0 ? fabric.flow_efficiency : kDefaultEfficiency;
  params.efficiency_half_ranks = fabric.flow_efficiency > 0.0 ? fabric.flow_efficiency_half_ranks : 0.0;
  params.link_bytes_per_s = fabric.bytes_per_s;
  params.across_nodes = alpha_beta_for(fabric);
  return params;
}

FlowCollectives::FlowCollectives(const FlowParams& params) : params_(params) {
  assert(params_.efficiency > 0.0 && params_.efficiency <= 1.0 && "flow efficiency must be in (0, 1]");
  assert(params_.step_latency_s >= 0.0);
}

double FlowCollectives::seconds(Collective collective, double bytes, int64_t ranks, int64_t nodes) const {
  if (ranks < 2 || bytes <= 0.0) return 0.0;
  if (collective == Collective::kSendRecvAcrossNodes || nodes > 1) {
    return AlphaBetaCollectives(params_.across_nodes).seconds(collective, bytes, ranks, nodes);
  }
  assert(params_.link_bytes_per_s > 0.0 && "flow's closed form needs the fabric's bandwidth");
  const auto [steps, load] = closed_form_terms(collective, params_.all_reduce, bytes, ranks);
  return params_.launch_latency_s + steps * params_.step_latency_s +
         load / (params_.link_bytes_per_s * efficiency(collective, ranks));
}

double FlowCollectives::efficiency(Collective collective, int64_t ranks) const {
  if (collective == Collective::kSendRecv || collective == Collective::kSendRecvAcrossNodes) return params_.efficiency;
  const auto n = static_cast<double>(ranks);
  return params_.efficiency * n / (n + params_.efficiency_half_ranks);
}

void FlowCollectives::start(Engine& engine, Collective collective, const std::vector<EndpointId>& group,
                            int64_t nodes, double bytes, int64_t count, std::function<void()> on_done) {
  const auto ranks = static_cast<int64_t>(group.size());
  if (ranks < 2 || bytes <= 0.0 || count <= 0) {
    engine.schedule_at(engine.now(), kPhaseCompletion, std::move(on_done));
    return;
  }
  auto run = std::make_shared<FlowRun>();
  run->engine = &engine;
  run->steps = flow_steps(collective, params_.all_reduce, bytes, ranks, nodes);
  run->group = group;
  run->wire_scale = static_cast<double>(count) / efficiency(collective, ranks);
  run->launch_s = static_cast<double>(count) * params_.launch_latency_s;
  run->wait_s = static_cast<double>(count) * params_.step_latency_s;
  run->on_done = std::move(on_done);
  if (params_.fuse_steps && run->steps.size() > 1) {
    auto same_pairs = [&](const FlowStep& a) {
      const FlowStep& first = run->steps.front();
      if (a.size() != first.size()) return false;
      for (std::size_t c = 0; c < a.size(); ++c) {
        if (a[c].src != first[c].src || a[c].dst != first[c].dst) return false;
      }
      return true;
    };
    if (std::all_of(run->steps.begin(), run->steps.end(), same_pairs)) {
      FlowStep fused = run->steps.front();
      for (FlowChunk& chunk : fused) chunk.bytes = 0.0;
      for (const FlowStep& step : run->steps) {
        for (std::size_t c = 0; c < step.size(); ++c) fused[c].bytes += step[c].bytes;
      }
      run->wait_s *= static_cast<double>(run->steps.size());  // the route latency is paid once, as one step's
      run->steps.assign(1, std::move(fused));
    }
  }
  begin_step(run);
}

FlowFit fit_flow(const std::vector<CollectiveSample>& all_reduce, const std::vector<CollectiveSample>& send_recv,
                 double link_bytes_per_s, bool with_launch) {
  const std::size_t n = all_reduce.size() + send_recv.size();
  const Eigen::Index columns = with_launch ? 4 : 2;
  // row . ([launch_latency,] step_latency, 1 / e[, h / e]) = t, every row divided by its t
  Eigen::MatrixXd a(static_cast<Eigen::Index>(n), columns);
  Eigen::Index i = 0;
  auto add = [&](const std::vector<CollectiveSample>& samples, Collective collective) {
    for (const CollectiveSample& s : samples) {
      const auto [steps, load] = closed_form_terms(collective, FlowAllReduceAlgorithm::kRing, s.bytes, s.ranks);
      Eigen::Index c = 0;
      if (with_launch) a(i, c++) = 1.0 / s.seconds;
      a(i, c++) = steps / s.seconds;
      a(i, c++) = load / link_bytes_per_s / s.seconds;
      // A send/recv is one transfer, not a ring: it streams at the large-ring efficiency.
      if (with_launch) {
        a(i, c) = collective == Collective::kSendRecv ? 0.0 : load / link_bytes_per_s / static_cast<double>(s.ranks) / s.seconds;
      }
      ++i;
    }
  };
  add(all_reduce, Collective::kAllReduce);
  add(send_recv, Collective::kSendRecv);
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(static_cast<Eigen::Index>(n));
  Eigen::VectorXd weight = ones;
  Eigen::VectorXd x = Eigen::VectorXd::Zero(columns);
  constexpr int kIterations = 100;
  constexpr double kSmallestResidual = 1e-6;  // keeps a sample the fit passes through from dominating
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    const Eigen::VectorXd root = weight.cwiseSqrt();
    x = (root.asDiagonal() * a).colPivHouseholderQr().solve(root.asDiagonal() * ones);
    weight = ((a * x - ones).cwiseAbs().cwiseMax(kSmallestResidual)).cwiseInverse();
  }
  FlowFit fit;
  const Eigen::Index step = with_launch ? 1 : 0;
  if ((with_launch && (x(0) < 0.0 || x(3) < 0.0)) || x(step) < 0.0 || x(step + 1) <= 0.0) return fit;  // not physical
  fit.launch_latency_s = with_launch ? x(0) : 0.0;
  fit.step_latency_s = x(step);
  fit.efficiency = 1.0 / x(step + 1);
  fit.efficiency_half_ranks = with_launch ? x(3) / x(step + 1) : 0.0;
  return fit;
}

SERVESIM_REGISTER(CollectiveModel, "flow",
                  "algorithm steps (ring/tree all-reduce, ring all-gather/reduce-scatter, pairwise all-to-all, "
                  "send/recv) as transfers on a cluster's links, max-min shared with all other traffic; defaults "
                  "from the fabric's flow fit",
                  flow_specs(), [](const ParamValues& values, const FabricSpec& fabric) {
                    FlowParams params = flow_params_for(fabric);
                    params.all_reduce = values.string("algorithm") == "tree" ? FlowAllReduceAlgorithm::kTree
                                                                             : FlowAllReduceAlgorithm::kRing;
                    if (values.number("launch_latency") > 0.0) {
                      params.launch_latency_s = values.number("launch_latency");
                    }
                    if (values.number("step_latency") > 0.0) params.step_latency_s = values.number("step_latency");
                    if (values.number("efficiency") > 0.0) params.efficiency = values.number("efficiency");
                    if (values.number("efficiency_half_ranks") >= 0.0) {
                      params.efficiency_half_ranks = values.number("efficiency_half_ranks");
                    }
                    params.fuse_steps = values.boolean("fuse_steps");
                    return std::make_unique<FlowCollectives>(params);
                  });

}  // namespace servesim

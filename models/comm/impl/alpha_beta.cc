#include <algorithm>
#include <cassert>

#include <Eigen/Dense>

#include "models/comm/collective_model.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

double ring_factor(Collective collective, int64_t ranks) {
  const double n = static_cast<double>(ranks);
  switch (collective) {
    case Collective::kAllReduce: return 2.0 * (n - 1.0) / n;
    case Collective::kAllGather:
    case Collective::kReduceScatter:
    case Collective::kAllToAll: return (n - 1.0) / n;
    case Collective::kSendRecv:
    case Collective::kSendRecvAcrossNodes: return 1.0;
  }
  return 1.0;
}

// NCCL reaches about 80% of the NVLink per-direction bandwidth as bus bandwidth
// on large all-reduces (our fit of Vidur's h100_dgx data gives a similar ratio).
constexpr double kDefaultBusEfficiency = 0.8;

ParamSpecs alpha_beta_specs() {
  return {ParamSpec::quantity("allreduce_latency", Dimension::kSeconds, "0 s",
                              "fixed cost of one all-reduce; 0 = the fabric's NCCL fit", true),
          ParamSpec::quantity("allreduce_bus_bandwidth", Dimension::kBytesPerSecond, "0 B/s",
                              "all-reduce bus bandwidth (ring moves 2(n-1)/n x size); 0 = fabric", true),
          ParamSpec::quantity("send_recv_latency", Dimension::kSeconds, "0 s",
                              "fixed cost of one send/recv; 0 = fabric", true),
          ParamSpec::quantity("send_recv_bandwidth", Dimension::kBytesPerSecond, "0 B/s",
                              "point-to-point bandwidth; 0 = fabric", true)};
}

}  // namespace

double AlphaBetaCollectives::seconds(Collective collective, double bytes, int64_t ranks, int64_t nodes) const {
  if (ranks < 2 || bytes <= 0.0) return 0.0;
  if (collective == Collective::kSendRecv) return params_.send_recv_latency_s + bytes / params_.send_recv_bytes_per_s;
  if (collective == Collective::kSendRecvAcrossNodes) {
    assert(params_.inter_node_send_recv_bytes_per_s > 0.0 && "plans spanning nodes need inter-node numbers");
    return params_.inter_node_send_recv_latency_s + bytes / params_.inter_node_send_recv_bytes_per_s;
  }
  if (nodes <= 1) {
    return params_.allreduce_latency_s + ring_factor(collective, ranks) * bytes / params_.allreduce_bus_bytes_per_s;
  }
  // Across N nodes with g = n / N GPUs on each, through m NICs per node (m = g: every GPU its own NIC,
  // rails as DGX/HGX nodes; m < g: each NIC carries g / m GPUs' traffic).
  assert(ranks % nodes == 0 && params_.inter_node_send_recv_bytes_per_s > 0.0 &&
         "groups spanning nodes fill them evenly and need inter-node numbers");
  const double n = static_cast<double>(ranks);
  const double g = static_cast<double>(ranks / nodes);
  const double nic_sharing =
      params_.nics_per_node > 0 ? std::max(1.0, g / static_cast<double>(params_.nics_per_node)) : 1.0;
  const double intra_latency = g > 1.0 ? params_.allreduce_latency_s : 0.0;
  const double nic_ring_bytes_per_s = params_.inter_node_allreduce_bus_bytes_per_s > 0.0
                                          ? params_.inter_node_allreduce_bus_bytes_per_s
                                          : params_.inter_node_send_recv_bytes_per_s;
  const double nic_latency = params_.inter_node_allreduce_bus_bytes_per_s > 0.0
                                 ? params_.inter_node_allreduce_latency_s
                                 : 2.0 * params_.inter_node_send_recv_latency_s;
  if (collective == Collective::kAllToAll) {
    // Each GPU sends S/n to every other: (g-1)/n x S over the fabric and (n-g)/n x S through its NIC, at once.
    const double fabric_s = (g - 1.0) / n * bytes / params_.allreduce_bus_bytes_per_s;
    const double nic_s = nic_sharing * (n - g) / n * bytes / params_.inter_node_send_recv_bytes_per_s;
    return std::max(intra_latency, params_.inter_node_send_recv_latency_s) + std::max(fabric_s, nic_s);
  }
  // NCCL's ring over all n ranks, in g channels of S/g (one per GPU of a node), channel c leaving each node
  // through a different GPU's NIC: of a GPU's ring traffic f(n) x S, (g-1)/g crosses its fabric port and 1/g its
  // NIC, concurrently. Fixed cost: the intra-node collective's or, between nodes, one ring all-reduce's
  // (N - 1 inter-node hops for the reduce and as many for the broadcast; for all-gather and reduce-scatter half).
  const double ring_bytes = ring_factor(collective, ranks) * bytes;
  const double fabric_s = (g - 1.0) / g * ring_bytes / params_.allreduce_bus_bytes_per_s;
  const double nic_s = nic_sharing * ring_bytes / g / nic_ring_bytes_per_s;
  const double hops = static_cast<double>(nodes - 1) * (collective == Collective::kAllReduce ? 1.0 : 0.5);
  return std::max(intra_latency, hops * nic_latency) + std::max(fabric_s, nic_s);
}

AlphaBetaParams alpha_beta_for(const FabricSpec& fabric) {
  AlphaBetaParams params;
  params.allreduce_latency_s = fabric.allreduce_latency_s > 0.0 ? fabric.allreduce_latency_s : 2.0 * fabric.latency_s;
  params.allreduce_bus_bytes_per_s = fabric.allreduce_bus_bytes_per_s > 0.0
                                         ? fabric.allreduce_bus_bytes_per_s
                                         : kDefaultBusEfficiency * fabric.bytes_per_s;
  params.send_recv_latency_s = fabric.send_recv_latency_s > 0.0 ? fabric.send_recv_latency_s : fabric.latency_s;
  params.send_recv_bytes_per_s =
      fabric.send_recv_bytes_per_s > 0.0 ? fabric.send_recv_bytes_per_s : kDefaultBusEfficiency * fabric.bytes_per_s;
  params.inter_node_send_recv_latency_s = fabric.inter_node_send_recv_latency_s;
  params.inter_node_send_recv_bytes_per_s = fabric.inter_node_send_recv_bytes_per_s;
  params.inter_node_allreduce_latency_s = fabric.inter_node_allreduce_latency_s;
  params.inter_node_allreduce_bus_bytes_per_s = fabric.inter_node_allreduce_bus_bytes_per_s;
  params.nics_per_node = fabric.inter_node_nics_per_node;
  return params;
}

std::pair<double, double> fit_alpha_beta(const std::vector<CollectiveSample>& samples, Collective collective) {
  Eigen::MatrixXd a(static_cast<Eigen::Index>(samples.size()), 2);
  Eigen::VectorXd b(static_cast<Eigen::Index>(samples.size()));
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto row = static_cast<Eigen::Index>(i);
    const double weight = 1.0 / samples[i].seconds;  // relative error
    a(row, 0) = weight;
    a(row, 1) = weight * ring_factor(collective, samples[i].ranks) * samples[i].bytes;
    b(row) = 1.0;
  }
  const Eigen::VectorXd x = a.colPivHouseholderQr().solve(b);
  if (x(0) >= 0.0) return {x(0), x(1) > 0.0 ? 1.0 / x(1) : 0.0};
  // A negative latency is not physical (noisy small messages): refit the bandwidth alone.
  const Eigen::VectorXd slope = a.rightCols(1).colPivHouseholderQr().solve(b);
  return {0.0, slope(0) > 0.0 ? 1.0 / slope(0) : 0.0};
}

SERVESIM_REGISTER(CollectiveModel, "alpha-beta",
                  "latency + bytes / bandwidth with ring factors (all-to-all as an all-gather's traffic); defaults from the fabric's NCCL fit",
                  alpha_beta_specs(), [](const ParamValues& values, const FabricSpec& fabric) {
                    AlphaBetaParams params = alpha_beta_for(fabric);
                    auto override_with = [&](const char* name, double* field) {
                      if (values.number(name) > 0.0) *field = values.number(name);
                    };
                    override_with("allreduce_latency", &params.allreduce_latency_s);
                    override_with("allreduce_bus_bandwidth", &params.allreduce_bus_bytes_per_s);
                    override_with("send_recv_latency", &params.send_recv_latency_s);
                    override_with("send_recv_bandwidth", &params.send_recv_bytes_per_s);
                    return std::make_unique<AlphaBetaCollectives>(params);
                  });

}  // namespace servesim

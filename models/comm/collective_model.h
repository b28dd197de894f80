#pragma once
// Contract: time of one NCCL-style collective among `ranks` GPUs spread evenly over `nodes`
// nodes, ranks / nodes on each, packed in rank order (all-reduce, all-gather, reduce-scatter,
// all-to-all of MoE dispatch/combine, send/recv between pipeline stages) for a message of
// `bytes` per GPU. Two ways to ask:
//  - seconds(): analytic, pure and cheap (called while building cost tables); sees no
//    other traffic.
//  - start(): runs the collective on an Engine and calls back when it ends. A model whose
//    uses_links() is true (flow, models/comm/impl/flow.h) decomposes it into its
//    algorithm's steps as engine transfers between the group's endpoints, so it shares
//    link bandwidth max-min with every other flow on those links (KV moves, other
//    collectives); the default start() just waits count x seconds(), touching no link.
// Implementations: alpha-beta (a fixed latency plus bytes over a fitted bus bandwidth,
// with each collective's ring factor) and flow. Seconds, bytes. Deterministic: start()
// schedules only through the engine, whose same-time order is fixed.
// Models are immutable after construction; start() keeps its per-call state in the
// callbacks it hands the engine, so one model may run many collectives at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hardware/spec/node_spec.h"
#include "sim/core/engine.h"
#include "sim/core/params.h"

namespace servesim {

// kSendRecvAcrossNodes: one GPU on each of two nodes (pipeline stages on different nodes).
// kAllToAll: every GPU sends bytes / ranks to each GPU (one share stays local); no NCCL
// all-to-all timings exist in our data, so it is derived: each GPU sends and receives
// (n-1)/n x bytes, the per-GPU traffic of an all-gather of `bytes` per GPU (pairwise exchange:
// n-1 steps of bytes / n, run concurrently over the switch as NCCL's grouped send/recv does),
// at the all-reduce fit's bus bandwidth and with its latency (one collective launch, not n-1
// point-to-point ones). See models/execution/README.md for what it rests on and its error.
// kReduceScatter: every GPU ends with 1/ranks of the reduced `bytes` (ring factor (n-1)/n).
enum class Collective { kAllReduce, kAllGather, kSendRecv, kSendRecvAcrossNodes, kAllToAll, kReduceScatter };

/// Short name ("all-reduce", "send-recv", ...) for tables and messages.
const char* collective_name(Collective collective);

class CollectiveModel {
 public:
  static constexpr const char* kInterfaceName = "collective-model";
  static constexpr const char* kInterfaceSummary =
      "time of all-reduce / all-gather / all-to-all / send-recv among GPUs (\"collectives\": {\"impl\": NAME, <parameters>})";
  using Factory = std::function<std::unique_ptr<CollectiveModel>(const ParamValues&, const FabricSpec&)>;

  virtual ~CollectiveModel() = default;
  /// Seconds for one collective of `bytes` per GPU among `ranks` GPUs on `nodes` nodes (ranks / nodes each;
  /// 0 when ranks < 2). `nodes` divides `ranks`.
  virtual double seconds(Collective collective, double bytes, int64_t ranks, int64_t nodes) const = 0;
  /// The same within one node.
  double seconds(Collective collective, double bytes, int64_t ranks) const {
    return seconds(collective, bytes, ranks, 1);
  }

  /// Whether this model's collectives run as transfers on the platform's links (start()); false: seconds() is exact.
  virtual bool uses_links() const { return false; }
  /// Runs `count` back-to-back collectives of `bytes` per GPU among `group` (engine endpoints in rank order, on
  /// `nodes` nodes, group.size() / nodes consecutive ranks on each) on `engine`; `on_done` runs when the last one
  /// ends. Default: waits count x seconds(collective, bytes, group.size(), nodes).
  /// `count` lumps equal collectives (an iteration's per-layer all-reduces): a link-level model runs each
  /// algorithm step once carrying count x its chunk and paying count x its per-step latency, which takes as long
  /// as count separate collectives when nothing else shares the links and they have no latency (a lumped step
  /// crosses the route's latency once, not count times; with other traffic it shares bandwidth as one flow per
  /// step, not count). A group of fewer than 2, bytes <= 0 or count <= 0 ends at once.
  /// `on_done` runs in phase kPhaseCompletion (as a transfer's completion would).
  virtual void start(Engine& engine, Collective collective, const std::vector<EndpointId>& group, int64_t nodes,
                     double bytes, int64_t count, std::function<void()> on_done);
};

/// Alpha-beta parameters; from the fabric's NCCL fit or its datasheet numbers.
struct AlphaBetaParams {
  double allreduce_latency_s = 0.0;
  double allreduce_bus_bytes_per_s = 0.0;
  double send_recv_latency_s = 0.0;
  double send_recv_bytes_per_s = 0.0;
  double inter_node_send_recv_latency_s = 0.0;  // 0 bandwidth = not known
  double inter_node_send_recv_bytes_per_s = 0.0;
  // Ring all-reduce between nodes with one GPU on each (its NIC's ring bus bandwidth); 0 = the
  // inter-node send/recv numbers.
  double inter_node_allreduce_latency_s = 0.0;
  double inter_node_allreduce_bus_bytes_per_s = 0.0;
  int64_t nics_per_node = 0;  // 0 = one NIC per GPU; fewer: each NIC carries g / nics GPUs' traffic
};

class AlphaBetaCollectives : public CollectiveModel {
 public:
  explicit AlphaBetaCollectives(const AlphaBetaParams& params) : params_(params) {}
  using CollectiveModel::seconds;
  /// Across nodes (see alpha_beta.cc): NCCL's ring over all ranks in one channel per GPU of a node, each
  /// channel leaving the node through its GPU's NIC at the inter-node send/recv bandwidth (with fewer
  /// NICs than GPUs on a node, g / nics channels share each NIC).
  double seconds(Collective collective, double bytes, int64_t ranks, int64_t nodes) const override;
  const AlphaBetaParams& params() const { return params_; }

 private:
  AlphaBetaParams params_;
};

/// The fabric's fitted numbers where present, else its latency and 80% of its
/// datasheet bandwidth (NCCL's typical bus efficiency on NVLink).
AlphaBetaParams alpha_beta_for(const FabricSpec& fabric);

/// One measured collective: GPUs (over `nodes` nodes), bytes per GPU, seconds.
struct CollectiveSample {
  int64_t ranks = 0;
  double bytes = 0.0;
  double seconds = 0.0;
  int64_t nodes = 1;
};

/// Least-squares fit (Eigen) of t = alpha + factor(ranks) x bytes / bandwidth,
/// relative error weighted; factor = 2(n-1)/n for all-reduce, (n-1)/n for all-gather and
/// all-to-all and reduce-scatter, 1 for send/recv.
/// Returns {alpha_s, bytes_per_s}.
std::pair<double, double> fit_alpha_beta(const std::vector<CollectiveSample>& samples, Collective collective);

}  // namespace servesim

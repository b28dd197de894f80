#pragma once
// Contract: "flow" collectives. Each collective first waits a fixed `launch_latency` (the
// collective kernel's launch and channel setup, once per collective), then is decomposed into
// its algorithm's synchronous steps (NCCL's: a step starts when every transfer of the previous
// one has landed); each step waits a fixed `step_latency` (synchronisation, protocol
// handshake), then runs its point-to-point chunks as Engine transfers between the
// group's endpoints, so they share link bandwidth max-min with all other traffic on
// those links. Bytes on the wire = payload / `efficiency` (protocol headers, flags and
// NCCL's LL/Simple overheads; fitted). Step structures, for n ranks and S bytes per GPU:
//   ring all-reduce   2(n-1) steps; in each, rank i sends S/n to rank (i+1) mod n
//                     (reduce-scatter, then all-gather)
//   tree all-reduce   one binary tree over the ranks in heap order (rank i's children
//                     2i+1, 2i+2; root 0), depth d = floor(log2 n): d reduce steps (level
//                     by level from the leaves, every node of a level sends S to its
//                     parent), then d broadcast steps (every parent of a level sends S to
//                     each child). Approximates NCCL's double binary tree by one tree with
//                     pipelining ignored (whole-message steps), so it is pessimistic for
//                     large messages.
//   all-gather,       n-1 steps; in each, rank i sends S/n to rank (i+1) mod n
//   reduce-scatter
//   all-to-all        pairwise exchange: n-1 steps; in step k (1..n-1) rank i sends S/n to
//                     rank (i+k) mod n
//   send/recv         one step: rank 0 sends S to rank 1 (also across nodes: the route
//                     between the two endpoints decides which links it crosses)
// Across N nodes (g = n / N ranks on each, consecutive), ring collectives run as NCCL's
// rings do: g channels of S/g, each a ring over all n ranks that leaves every node through a
// different GPU (so through every GPU's NIC once): channel c visits a node's GPUs from
// local c up to c - 1 (mod g) on even nodes and from c - 1 down to c on odd ones, so it
// enters each node on the rail it left the previous one (rail-aligned; with an odd N the
// wrap from the last node to the first changes rail). A step's chunks between the same two
// ranks travel as one transfer. Per step a GPU sends (g-1)/g x S/n over its fabric port and
// S/(g n) through its NIC. Tree all-reduce and all-to-all ignore nodes (their routes cross
// the NICs where they must).
// Closed form (seconds()): on a non-blocking switch where every GPU has an up and a down
// link of the fabric's bandwidth B and no wire latency, a step ends when its most loaded
// link drains (every flow of a step has the same size, so max-min gives each flow of the
// busiest link exactly B / its load): T = sum over steps of (step_latency + max link load
// / (B x efficiency)) + launch_latency. Ring all-reduce: 2(n-1)(step_latency + S/(n B e));
// all-gather, reduce-scatter, all-to-all: (n-1)(step_latency + S/(n B e)); send/recv:
// step_latency + S/(B e) (each plus launch_latency); tree: 2 sum_{l=1..d} (step_latency + c_l S/(B e)) with c_l = 2 where level l
// holds a second child of its first parent (n >= 2^l + 1), else 1. step_latency is a step's
// whole fixed cost, wire latency included (it was fitted on links without latency): on links
// with latency, start() waits step_latency less the step's route latency (never less than
// nothing) before its transfers, so T holds on any links whose route latency is at most the
// step latency (and a step pays the larger of the two). seconds() for send/recv across
// nodes, and of any collective whose group spans nodes, is alpha-beta's (the fabric's
// inter-node fit): the NVLink switch is not crossed and the NICs are not the fabric's.
// start() with count = k waits k x launch_latency, then runs each step once with k x its chunk
// after k x step_latency (less the route latency): k collectives' time on idle links.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "models/comm/collective_model.h"

namespace servesim {

enum class FlowAllReduceAlgorithm { kRing, kTree };

struct FlowParams {
  FlowAllReduceAlgorithm all_reduce = FlowAllReduceAlgorithm::kRing;
  double launch_latency_s = 0.0;  // once per collective, before its first step
  double step_latency_s = 0.0;
  double efficiency = 1.0;    // payload / bytes on the wire, in (0, 1], in a large ring
  double efficiency_half_ranks = 0.0;  // at n ranks: efficiency x n / (n + this)
  // Runs a collective whose steps all join the same pairs (ring all-reduce, all-gather,
  // reduce-scatter) as one step carrying all their chunks after all their fixed costs: the same
  // time on idle links, a steps-times smaller event count, contention averaged over the collective.
  bool fuse_steps = false;
  double link_bytes_per_s = 0.0;  // the fabric's per-GPU, per-direction bandwidth (seconds() only)
  AlphaBetaParams across_nodes;   // send/recv between nodes (seconds() only)
};

/// The fabric's NCCL fit (flow_launch_latency, flow_step_latency, flow_efficiency) where present,
/// else no launch latency, a step latency of the fabric's latency (one step is a send/recv, whose
/// fixed cost that is) and efficiency 0.8.
FlowParams flow_params_for(const FabricSpec& fabric);

/// One point-to-point chunk of a step, between ranks (indices into the group).
struct FlowChunk {
  int64_t src = 0;
  int64_t dst = 0;
  double bytes = 0.0;  // payload
};
using FlowStep = std::vector<FlowChunk>;

/// The algorithm's steps for one collective of `bytes` per GPU among `ranks` GPUs on `nodes` nodes (ranks / nodes
/// consecutive ranks on each; empty when ranks < 2).
std::vector<FlowStep> flow_steps(Collective collective, FlowAllReduceAlgorithm all_reduce, double bytes,
                                 int64_t ranks, int64_t nodes = 1);

class FlowCollectives : public CollectiveModel {
 public:
  explicit FlowCollectives(const FlowParams& params);
  /// The closed form above: uncontended links of link_bytes_per_s with no wire latency.
  using CollectiveModel::seconds;
  double seconds(Collective collective, double bytes, int64_t ranks, int64_t nodes) const override;
  bool uses_links() const override { return true; }
  void start(Engine& engine, Collective collective, const std::vector<EndpointId>& group, int64_t nodes,
             double bytes, int64_t count, std::function<void()> on_done) override;
  const FlowParams& params() const { return params_; }
  /// Payload / bytes on the wire in a collective of `ranks` GPUs (send/recv: the large-ring figure).
  double efficiency(Collective collective, int64_t ranks) const;

 private:
  FlowParams params_;
};

struct FlowFit {
  double launch_latency_s = 0.0;
  double step_latency_s = 0.0;
  double efficiency = 0.0;  // 0 = no physical fit (a negative latency or efficiency)
  double efficiency_half_ranks = 0.0;
};

/// Least-absolute-relative-error fit (iteratively reweighted least squares, Eigen) of the flow closed
/// form to measured collectives on a fabric of `link_bytes_per_s`: t = launch_latency + steps x
/// step_latency + wire-time / efficiency, for ring all-reduce and send/recv samples together (the
/// model's one set of numbers), the efficiency at n ranks e n / (n + h) (1 / that is linear in 1/e
/// and h/e). Minimising |relative error| rather than its square keeps the noisy small messages from
/// dominating. With `with_launch` false the launch latency and h are held at 0 (the two-term fit).
FlowFit fit_flow(const std::vector<CollectiveSample>& all_reduce, const std::vector<CollectiveSample>& send_recv,
                 double link_bytes_per_s, bool with_launch = true);

}  // namespace servesim

// Claims about the collective models with closed-form oracles. System: one non-blocking switch;
// every GPU endpoint has an up link and a down link of bandwidth B and latency a to it, and the
// route src -> dst is {up_src, down_dst} (route latency 2a). Every case runs in its own process
// (SimGrid allows one engine per process).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/comm/collective_model.h"
#include "models/comm/impl/flow.h"
#include "sim/core/engine.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

constexpr double kLinkBytesPerS = 100e9;  // B
constexpr double kLinkLatencyS = 0.5e-6;  // a, per link
constexpr double kRouteLatencyS = 2.0 * kLinkLatencyS;
constexpr double kStepLatencyS = 3e-6;
constexpr double kEfficiency = 0.8;
constexpr double kBytes = 64e6;  // S, per GPU
constexpr double kRelative = 1e-9;

// n GPUs "gpu0".."gpu<n-1>" on one switch, plus a "host" endpoint on the same switch (its own up
// and down links) for background traffic.
PlatformSpec single_switch(int gpus, double link_latency_s) {
  PlatformSpec spec;
  std::vector<std::string> names;
  for (int i = 0; i < gpus; ++i) names.push_back("gpu" + std::to_string(i));
  names.push_back("host");
  for (const std::string& name : names) {
    spec.endpoints.push_back(name);
    spec.links.push_back({"up_" + name, kLinkBytesPerS, link_latency_s});
    spec.links.push_back({"down_" + name, kLinkBytesPerS, link_latency_s});
  }
  for (const std::string& src : names) {
    for (const std::string& dst : names) {
      if (src != dst) spec.routes.push_back({src, dst, {"up_" + src, "down_" + dst}, false});
    }
  }
  return spec;
}

std::vector<EndpointId> gpus(const Engine& engine, int n) {
  std::vector<EndpointId> group;
  for (int i = 0; i < n; ++i) group.push_back(engine.endpoint("gpu" + std::to_string(i)));
  return group;
}

FlowParams flow_params(FlowAllReduceAlgorithm algorithm = FlowAllReduceAlgorithm::kRing,
                       double step_latency_s = kStepLatencyS, double efficiency = kEfficiency) {
  FlowParams params;
  params.all_reduce = algorithm;
  params.step_latency_s = step_latency_s;
  params.efficiency = efficiency;
  params.link_bytes_per_s = kLinkBytesPerS;
  return params;
}

// Seconds from now until `count` collectives started now end (runs the engine dry).
double run_collective(Engine& engine, CollectiveModel& model, Collective collective, int n, double bytes,
                      int64_t count = 1) {
  const double start = engine.now();
  double done_at = -1.0;
  model.start(engine, collective, gpus(engine, n), 1, bytes, count, [&] { done_at = engine.now(); });
  engine.run();
  EXPECT_GE(done_at, start) << "on_done never ran";
  return done_at - start;
}

// One step of every rank's chunk (each link carries one flow): drain + fixed costs.
double per_step_s(double chunk_bytes) {
  return chunk_bytes / (kLinkBytesPerS * kEfficiency) + kStepLatencyS;
}

// Ring all-reduce, 8 GPUs: 2(n-1) steps of S/n each, so 2(n-1)/n S/(B e) + 2(n-1)(step latency).
TEST(FlowCollectives, RingAllReduceTakesTwoNMinusOneStepsOfAnNthOfTheMessage) {
  Engine engine(single_switch(8, kLinkLatencyS));
  FlowCollectives model(flow_params());
  const double n = 8.0;
  const double expected =
      2.0 * (n - 1.0) / n * kBytes / (kLinkBytesPerS * kEfficiency) + 2.0 * (n - 1.0) * kStepLatencyS;
  EXPECT_NEAR(run_collective(engine, model, Collective::kAllReduce, 8, kBytes), expected, kRelative * expected);
}

// All-gather, 4 GPUs: (n-1)/n S/(B e) + (n-1)(step latency).
TEST(FlowCollectives, AllGatherTakesNMinusOneRingSteps) {
  Engine engine(single_switch(4, kLinkLatencyS));
  FlowCollectives model(flow_params());
  const double expected = 3.0 * per_step_s(kBytes / 4.0);
  EXPECT_NEAR(run_collective(engine, model, Collective::kAllGather, 4, kBytes), expected, kRelative * expected);
}

// Reduce-scatter moves what all-gather does: (n-1) ring steps of S/n.
TEST(FlowCollectives, ReduceScatterTakesNMinusOneRingSteps) {
  Engine engine(single_switch(4, kLinkLatencyS));
  FlowCollectives model(flow_params());
  const double expected = 3.0 * per_step_s(kBytes / 4.0);
  EXPECT_NEAR(run_collective(engine, model, Collective::kReduceScatter, 4, kBytes), expected, kRelative * expected);
}

// Pairwise all-to-all, 8 GPUs: in step k every GPU sends one S/n chunk and receives one, so each
// link carries one flow: (n-1)/n S/(B e) + (n-1)(step latency).
TEST(FlowCollectives, AllToAllTakesNMinusOnePairwiseSteps) {
  Engine engine(single_switch(8, kLinkLatencyS));
  FlowCollectives model(flow_params());
  const double expected = 7.0 * per_step_s(kBytes / 8.0);
  EXPECT_NEAR(run_collective(engine, model, Collective::kAllToAll, 8, kBytes), expected, kRelative * expected);
}

// Send/recv: one transfer of S: S/(B e) + step latency.
TEST(FlowCollectives, SendRecvIsOneTransferOfTheMessage) {
  Engine engine(single_switch(2, kLinkLatencyS));
  FlowCollectives model(flow_params());
  const double expected = per_step_s(kBytes);
  EXPECT_NEAR(run_collective(engine, model, Collective::kSendRecv, 2, kBytes), expected, kRelative * expected);
}

// With efficiency 1 and no step latency a send/recv is exactly a lone transfer: S/B + route latency
// (a step's fixed cost includes its wire latency: the larger of the two is paid).
TEST(FlowCollectives, SendRecvWithPerfectEfficiencyIsALoneTransfer) {
  Engine engine(single_switch(2, kLinkLatencyS));
  FlowCollectives model(flow_params(FlowAllReduceAlgorithm::kRing, 0.0, 1.0));
  const double expected = kBytes / kLinkBytesPerS + kRouteLatencyS;
  EXPECT_NEAR(run_collective(engine, model, Collective::kSendRecv, 2, kBytes), expected, kRelative * expected);
}

// Tree all-reduce, 8 GPUs (heap tree: 0 <- {1,2}, 1 <- {3,4}, 2 <- {5,6}, 3 <- {7}; depth 3).
// Reduce: 7->3 carries S; {3,4}->1 and {5,6}->2 share the parents' down links (2S); {1,2}->0 (2S).
// Broadcast mirrors it (parents' up links): 2S, 2S, S. Total 10 S/(B e) + 6 (step latency).
TEST(FlowCollectives, TreeAllReduceOfEightGpusMovesTenMessagesThroughItsBusiestLinks) {
  Engine engine(single_switch(8, kLinkLatencyS));
  FlowCollectives model(flow_params(FlowAllReduceAlgorithm::kTree));
  const double expected = 10.0 * kBytes / (kLinkBytesPerS * kEfficiency) + 6.0 * kStepLatencyS;
  EXPECT_NEAR(run_collective(engine, model, Collective::kAllReduce, 8, kBytes), expected, kRelative * expected);
}

// count = 3 lumped collectives take 3 x one collective when nothing else shares the links (links
// without latency: a lumped step pays the wire latency once, not count times).
TEST(FlowCollectives, CountOfKTakesKTimesOneCollective) {
  Engine engine(single_switch(4, 0.0));
  FlowCollectives model(flow_params());
  const double one = run_collective(engine, model, Collective::kAllReduce, 4, kBytes);
  const double three = run_collective(engine, model, Collective::kAllReduce, 4, kBytes, 3);
  EXPECT_NEAR(three, 3.0 * one, kRelative * three);
  EXPECT_NEAR(one, 6.0 * (kBytes / 4.0 / (kLinkBytesPerS * kEfficiency) + kStepLatencyS), kRelative * one);
}

// fuse_steps: a ring all-reduce's 2(n-1) identical steps run as one flow per link after all their
// fixed costs, which on idle links takes exactly the unfused time, 2(n-1)/n S/(B e) + 2(n-1) step
// latency; an all-to-all (different pairs each step) is left as it is.
TEST(FlowCollectives, FusedRingStepsTakeTheUnfusedTimeOnIdleLinks) {
  Engine engine(single_switch(8, kLinkLatencyS));
  FlowParams fused_params = flow_params();
  fused_params.fuse_steps = true;
  FlowCollectives fused(fused_params);
  const double n = 8.0;
  const double ring = 2.0 * (n - 1.0) / n * kBytes / (kLinkBytesPerS * kEfficiency) + 2.0 * (n - 1.0) * kStepLatencyS;
  EXPECT_NEAR(run_collective(engine, fused, Collective::kAllReduce, 8, kBytes), ring, kRelative * ring);
  const double all_to_all = 7.0 * per_step_s(kBytes / 8.0);
  EXPECT_NEAR(run_collective(engine, fused, Collective::kAllToAll, 8, kBytes), all_to_all, kRelative * all_to_all);
}

// seconds() is start()'s time on zero-latency links of the fabric's bandwidth, for every collective
// and both all-reduce algorithms (6 GPUs: a tree whose last level is not full). 60 MB so that every
// step's drain time is a round number: SimGrid's clock rounds each completion to about 1e-11 s,
// which would otherwise leave a 1e-8 relative difference.
TEST(FlowCollectives, SecondsIsTheTimeOnUncontendedLinksOfTheFabricBandwidth) {
  constexpr double kSixGpuBytes = 60e6;
  Engine engine(single_switch(6, 0.0));
  for (auto algorithm : {FlowAllReduceAlgorithm::kRing, FlowAllReduceAlgorithm::kTree}) {
    FlowCollectives model(flow_params(algorithm));
    for (Collective collective : {Collective::kAllReduce, Collective::kAllGather, Collective::kReduceScatter,
                                  Collective::kAllToAll}) {
      const double expected = model.seconds(collective, kSixGpuBytes, 6);
      EXPECT_NEAR(run_collective(engine, model, collective, 6, kSixGpuBytes), expected, kRelative * expected)
          << collective_name(collective);
    }
    const double expected = model.seconds(Collective::kSendRecv, kSixGpuBytes, 2);
    EXPECT_NEAR(run_collective(engine, model, Collective::kSendRecv, 2, kSixGpuBytes), expected, kRelative * expected);
  }
}

// A ring all-reduce (4 GPUs, efficiency 1, no latencies) started with a long transfer gpu0 -> host of
// L bytes: gpu0's up link carries two flows, so gpu0's ring chunk (S/n) drains at B/2 and every step
// takes 2 S/(n B): the all-reduce takes twice its lone 2(n-1)/n S/B. The transfer gets B/2 during the
// all-reduce (2(n-1) S/n bytes, the ring's own traffic on that link), then B: it ends at
// L/B + 2(n-1)/n S/B, later than its lone L/B by the ring's bytes on the shared link.
TEST(FlowCollectives, RingAllReduceSharingAnUpLinkWithALongTransferSlowsBoth) {
  Engine engine(single_switch(4, 0.0));
  FlowCollectives model(flow_params(FlowAllReduceAlgorithm::kRing, 0.0, 1.0));
  const double n = 4.0;
  const double long_bytes = 10.0 * kBytes;
  double transfer_done = -1.0;
  double all_reduce_done = -1.0;
  engine.transfer(engine.endpoint("gpu0"), engine.endpoint("host"), long_bytes, [&] { transfer_done = engine.now(); });
  model.start(engine, Collective::kAllReduce, gpus(engine, 4), 1, kBytes, 1, [&] { all_reduce_done = engine.now(); });
  engine.run();
  const double ring_on_link = 2.0 * (n - 1.0) / n * kBytes / kLinkBytesPerS;
  EXPECT_NEAR(all_reduce_done, 2.0 * ring_on_link, kRelative * all_reduce_done);
  EXPECT_NEAR(transfer_done, long_bytes / kLinkBytesPerS + ring_on_link, kRelative * transfer_done);
}

// A group of one GPU has nothing to do: on_done runs at once.
TEST(FlowCollectives, GroupOfOneEndsAtOnce) {
  Engine engine(single_switch(2, kLinkLatencyS));
  FlowCollectives model(flow_params());
  EXPECT_EQ(run_collective(engine, model, Collective::kAllReduce, 1, kBytes), 0.0);
}

// Alpha-beta runs on no link: start() waits count x seconds().
TEST(AlphaBetaCollectives, StartWaitsCountTimesSeconds) {
  Engine engine(single_switch(8, kLinkLatencyS));
  AlphaBetaParams params;
  params.allreduce_latency_s = 20e-6;
  params.allreduce_bus_bytes_per_s = 300e9;
  AlphaBetaCollectives model(params);
  EXPECT_FALSE(model.uses_links());
  const double expected = 5.0 * model.seconds(Collective::kAllReduce, kBytes, 8);
  EXPECT_DOUBLE_EQ(expected, 5.0 * (20e-6 + 2.0 * 7.0 / 8.0 * kBytes / 300e9));
  EXPECT_NEAR(run_collective(engine, model, Collective::kAllReduce, 8, kBytes, 5), expected, kRelative * expected);
}

// Alpha-beta's reduce-scatter has all-gather's ring factor (n-1)/n.
TEST(AlphaBetaCollectives, ReduceScatterCostsWhatAllGatherDoes) {
  AlphaBetaParams params;
  params.allreduce_latency_s = 20e-6;
  params.allreduce_bus_bytes_per_s = 300e9;
  AlphaBetaCollectives model(params);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kReduceScatter, kBytes, 8), 20e-6 + 7.0 / 8.0 * kBytes / 300e9);
  EXPECT_DOUBLE_EQ(model.seconds(Collective::kReduceScatter, kBytes, 8),
                   model.seconds(Collective::kAllGather, kBytes, 8));
}

// "flow" is registered with its parameters; with defaults it takes the fabric's flow fit, and
// explicit values override it.
TEST(FlowCollectives, RegisteredAsFlowWithFabricDefaultsAndOverrides) {
  const auto* entry = Registry<CollectiveModel>::instance().find("flow");
  ASSERT_NE(entry, nullptr);
  std::vector<std::string> names;
  for (const ParamSpec& spec : entry->info.params) names.push_back(spec.name);
  EXPECT_EQ(names, (std::vector<std::string>{"algorithm", "launch_latency", "step_latency", "efficiency",
                                              "efficiency_half_ranks", "fuse_steps"}));
  FabricSpec fabric;
  fabric.bytes_per_s = 450e9;
  fabric.latency_s = 7e-6;
  fabric.flow_launch_latency_s = 5e-6;
  fabric.flow_step_latency_s = 2e-6;
  fabric.flow_efficiency = 0.7;
  fabric.flow_efficiency_half_ranks = 0.5;
  auto model = entry->factory(default_params(entry->info.params), fabric);
  ASSERT_TRUE(model->uses_links());
  const auto& flow = dynamic_cast<const FlowCollectives&>(*model);
  EXPECT_EQ(flow.params().all_reduce, FlowAllReduceAlgorithm::kRing);
  EXPECT_EQ(flow.params().launch_latency_s, 5e-6);
  EXPECT_EQ(flow.params().step_latency_s, 2e-6);
  EXPECT_EQ(flow.params().efficiency, 0.7);
  EXPECT_EQ(flow.params().efficiency_half_ranks, 0.5);
  EXPECT_EQ(flow.params().link_bytes_per_s, 450e9);
  ParamValues values = default_params(entry->info.params);
  values.set("algorithm", std::string("tree"));
  values.set("step_latency", 1e-6);
  values.set("efficiency", 0.9);
  values.set("launch_latency", 3e-6);
  values.set("efficiency_half_ranks", 0.0);
  auto tree = entry->factory(values, fabric);
  const auto& tree_flow = dynamic_cast<const FlowCollectives&>(*tree);
  EXPECT_EQ(tree_flow.params().all_reduce, FlowAllReduceAlgorithm::kTree);
  EXPECT_EQ(tree_flow.params().step_latency_s, 1e-6);
  EXPECT_EQ(tree_flow.params().efficiency, 0.9);
  EXPECT_EQ(tree_flow.params().launch_latency_s, 3e-6);
  EXPECT_EQ(tree_flow.params().efficiency_half_ranks, 0.0);
}

// A fabric without a flow fit: step latency = the fabric's latency, efficiency 0.8.
TEST(FlowCollectives, FabricWithoutAFitFallsBackToItsLatencyAndEightyPercent) {
  FabricSpec fabric;
  fabric.bytes_per_s = 900e9;
  fabric.latency_s = 7.59e-6;
  const FlowParams params = flow_params_for(fabric);
  EXPECT_EQ(params.step_latency_s, 7.59e-6);
  EXPECT_EQ(params.efficiency, 0.8);
}

// Noiseless samples of `truth`'s closed form: ring all-reduce on 2, 4, 8 GPUs and send/recv, of 2 KB, 1 MB, 64 MB.
std::pair<std::vector<CollectiveSample>, std::vector<CollectiveSample>> samples_of(const FlowCollectives& truth) {
  std::vector<CollectiveSample> all_reduce, send_recv;
  for (double bytes : {2e3, 1e6, 64e6}) {
    for (int64_t n : {2, 4, 8}) all_reduce.push_back({n, bytes, truth.seconds(Collective::kAllReduce, bytes, n)});
    send_recv.push_back({2, bytes, truth.seconds(Collective::kSendRecv, bytes, 2)});
  }
  return {all_reduce, send_recv};
}

// fit_flow recovers the step latency and efficiency of noiseless samples of its own closed form.
TEST(FlowCollectives, FitRecoversTheParametersOfItsOwnClosedForm) {
  FlowCollectives truth(flow_params(FlowAllReduceAlgorithm::kRing, 2.5e-6, 0.7));
  const auto [all_reduce, send_recv] = samples_of(truth);
  const FlowFit fit = fit_flow(all_reduce, send_recv, kLinkBytesPerS, /*with_launch=*/false);
  EXPECT_NEAR(fit.step_latency_s, 2.5e-6, 1e-12);
  EXPECT_NEAR(fit.efficiency, 0.7, 1e-9);
  EXPECT_EQ(fit.launch_latency_s, 0.0);
}

// With a launch latency and a ring-size efficiency curve in the truth, the full fit recovers all four.
TEST(FlowCollectives, FitRecoversALaunchLatencyAndTheRingSizeEfficiency) {
  FlowParams p = flow_params(FlowAllReduceAlgorithm::kRing, 2.5e-6, 0.7);
  p.launch_latency_s = 15e-6;
  p.efficiency_half_ranks = 1.5;
  FlowCollectives truth(p);
  const auto [all_reduce, send_recv] = samples_of(truth);
  const FlowFit fit = fit_flow(all_reduce, send_recv, kLinkBytesPerS);
  EXPECT_NEAR(fit.launch_latency_s, 15e-6, 1e-11);
  EXPECT_NEAR(fit.step_latency_s, 2.5e-6, 1e-11);
  EXPECT_NEAR(fit.efficiency, 0.7, 1e-8);
  EXPECT_NEAR(fit.efficiency_half_ranks, 1.5, 1e-7);
}

// Closed form with the ring-size curve: a ring all-reduce of S on n GPUs takes launch + 2(n-1) x
// (step + S / (n B e n / (n + h))); a send/recv streams at the large-ring e.
TEST(FlowCollectives, RingsStreamAtTheirSizesEfficiencyAndSendsAtTheLargeRings) {
  FlowParams p = flow_params(FlowAllReduceAlgorithm::kRing, 2e-6, 0.8);
  p.launch_latency_s = 10e-6;
  p.efficiency_half_ranks = 2.0;
  const FlowCollectives flow(p);
  const double s = 64e6, b = kLinkBytesPerS;
  EXPECT_NEAR(flow.seconds(Collective::kAllReduce, s, 4), 10e-6 + 6 * (2e-6 + s / 4 / (b * 0.8 * 4 / 6)), 1e-12);
  EXPECT_NEAR(flow.seconds(Collective::kSendRecv, s, 2), 10e-6 + 2e-6 + s / (b * 0.8), 1e-12);
}

}  // namespace
}  // namespace servesim

// Claims about the event engine with closed-form oracles.
#include "sim/core/engine.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace servesim {
namespace {

// Two endpoints joined by one link of 10 GB/s and 2 us latency.
PlatformSpec two_hosts_one_link() {
  PlatformSpec spec;
  spec.endpoints = {"a", "b"};
  spec.links = {{"wire", 10e9, 2e-6}};
  spec.routes = {{"a", "b", {"wire"}, true}};
  spec.disks = {{"ssd", "a", 4e9, 2e9}};
  return spec;
}

// Three endpoints a, b, c; a -> c and b -> c cross their own up link and one shared link "core"
// (an oversubscribed uplink); routes come from a RouteSource, as a cluster's do.
class StarRoutes : public RouteSource {
 public:
  void route(std::size_t src, std::size_t dst, std::vector<std::size_t>& links) const override {
    if (dst != 2 || src > 1) throw std::invalid_argument("no route");
    links.push_back(src);  // up_a = 0, up_b = 1
    links.push_back(2);    // core
  }
};
PlatformSpec star_on_demand() {
  PlatformSpec spec;
  spec.endpoints = {"a", "b", "c"};
  spec.links = {{"up_a", 10e9, 1e-6}, {"up_b", 10e9, 1e-6}, {"core", 10e9, 3e-6}};
  spec.route_source = std::make_shared<StarRoutes>();
  spec.disks = {{"ssd", "a", 4e9, 2e9}};
  return spec;
}

// Routes on demand: a lone flow takes the route's summed latency + bytes / bandwidth.
TEST(FlowModel, RouteFromARouteSourceTakesItsLinksLatencyAndBandwidth) {
  Engine engine(star_on_demand());
  double done_at = -1.0;
  engine.transfer(engine.endpoint("a"), engine.endpoint("c"), 1e9, [&] { done_at = engine.now(); });
  engine.run();
  EXPECT_NEAR(done_at, 4e-6 + 1e9 / 10e9, 1e-9);
}

// Two flows from different ends crossing one shared link of the same bandwidth each get half.
TEST(FlowModel, TwoFlowsCrossingOneSharedLinkOfRoutesOnDemandEachGetHalf) {
  Engine engine(star_on_demand());
  std::vector<double> done;
  for (const char* src : {"a", "b"}) {
    engine.transfer(engine.endpoint(src), engine.endpoint("c"), 1e9, [&] { done.push_back(engine.now()); });
  }
  engine.run();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_NEAR(done[0], 4e-6 + 2e9 / 10e9, 1e-9);
  EXPECT_NEAR(done[1], 4e-6 + 2e9 / 10e9, 1e-9);
}

// A pair the route source has no route for is refused when the transfer is asked for.
TEST(FlowModel, TransferWithoutARouteFromTheRouteSourceThrows) {
  Engine engine(star_on_demand());
  EXPECT_THROW(engine.transfer(engine.endpoint("c"), engine.endpoint("a"), 1.0, [] {}), std::invalid_argument);
}

// Disks still work beside routes on demand.
TEST(DiskModel, DiskBesideRoutesOnDemandReadsAtItsBandwidth) {
  Engine engine(star_on_demand());
  double done_at = -1.0;
  engine.disk_io(engine.disk("ssd"), 2e9, DiskOp::kRead, [&] { done_at = engine.now(); });
  engine.run();
  EXPECT_NEAR(done_at, 0.5, 1e-9);
}

// One 1 GB flow alone on the link: latency + bytes / bandwidth.
TEST(FlowModel, OneFlowTakesLatencyPlusBytesOverBandwidth) {
  Engine engine(two_hosts_one_link());
  double done_at = -1.0;
  engine.transfer(engine.endpoint("a"), engine.endpoint("b"), 1e9, [&] { done_at = engine.now(); });
  engine.run();
  EXPECT_NEAR(done_at, 2e-6 + 1e9 / 10e9, 1e-9);
}

// Two equal flows started together share the link evenly: each finishes at latency + 2 * bytes / bw.
TEST(FlowModel, TwoEqualFlowsShareALinkEvenly) {
  Engine engine(two_hosts_one_link());
  std::vector<double> done;
  for (int i = 0; i < 2; ++i) {
    engine.transfer(engine.endpoint("a"), engine.endpoint("b"), 1e9, [&] { done.push_back(engine.now()); });
  }
  engine.run();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_NEAR(done[0], 2e-6 + 2 * 1e9 / 10e9, 1e-9);
  EXPECT_NEAR(done[1], 2e-6 + 2 * 1e9 / 10e9, 1e-9);
}

// A flow started by an event at t = 1 s finishes at 1 s + latency + bytes / bw.
TEST(FlowModel, FlowStartedLaterIsOffsetByItsStartTime) {
  Engine engine(two_hosts_one_link());
  double done_at = -1.0;
  engine.schedule_at(1.0, kPhaseDefault, [&] {
    engine.transfer(engine.endpoint("b"), engine.endpoint("a"), 5e8, [&] { done_at = engine.now(); });
  });
  engine.run();
  EXPECT_NEAR(done_at, 1.0 + 2e-6 + 5e8 / 10e9, 1e-9);
}

// A disk read of 2 GB at 4 GB/s takes 0.5 s; a write of 2 GB at 2 GB/s takes 1 s.
TEST(DiskModel, ReadTakesBytesOverReadBandwidthAndWriteOverWriteBandwidth) {
  Engine engine(two_hosts_one_link());
  double read_done = -1.0;
  engine.disk_io(engine.disk("ssd"), 2e9, DiskOp::kRead, [&] { read_done = engine.now(); });
  engine.run();
  EXPECT_NEAR(read_done, 0.5, 1e-9);
  double write_done = -1.0;
  engine.schedule_at(engine.now(), kPhaseDefault, [&] {
    const double start = engine.now();
    engine.disk_io(engine.disk("ssd"), 2e9, DiskOp::kWrite, [&, start] { write_done = engine.now() - start; });
  });
  engine.run();
  EXPECT_NEAR(write_done, 1.0, 1e-9);
}

// Two equal reads started together share the disk: each finishes at 2 x bytes / read bandwidth.
TEST(DiskModel, TwoConcurrentReadsShareTheDiskEvenly) {
  Engine engine(two_hosts_one_link());
  std::vector<double> done;
  for (int i = 0; i < 2; ++i) {
    engine.disk_io(engine.disk("ssd"), 1e9, DiskOp::kRead, [&] { done.push_back(engine.now()); });
  }
  engine.run();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_NEAR(done[0], 2 * 1e9 / 4e9, 1e-9);
  EXPECT_NEAR(done[1], 2 * 1e9 / 4e9, 1e-9);
}

// Reads and writes in flight together share the device's capacity (the larger of
// the two bandwidths) max-min: a 1 GB read (4 GB/s) and a 1 GB write (2 GB/s)
// started together get 2 GB/s each and both end at 0.5 s.
TEST(DiskModel, ReadAndWriteInFlightTogetherShareTheDevice) {
  Engine engine(two_hosts_one_link());
  double read_done = -1.0, write_done = -1.0;
  engine.disk_io(engine.disk("ssd"), 1e9, DiskOp::kRead, [&] { read_done = engine.now(); });
  engine.disk_io(engine.disk("ssd"), 1e9, DiskOp::kWrite, [&] { write_done = engine.now(); });
  engine.run();
  EXPECT_NEAR(read_done, 0.5, 1e-9);
  EXPECT_NEAR(write_done, 0.5, 1e-9);
}

// A short flow joining a long one: both share the link while the short one lasts,
// then the long one gets it all. Long 2 GB from t = 0, short 0.5 GB from t = 0.1 s on 10 GB/s:
// short ends at 0.1 + 0.5 / 5 = 0.2 s (+ latency); long has 2 - 0.1 x 10 - 0.1 x 5 = 0.5 GB left
// at 0.2 s and ends at 0.25 s (+ latency).
TEST(FlowModel, ShortFlowJoiningALongOneSharesUntilItEnds) {
  Engine engine(two_hosts_one_link());
  double long_done = -1.0, short_done = -1.0;
  const EndpointId a = engine.endpoint("a"), b = engine.endpoint("b");
  engine.transfer(a, b, 2e9, [&] { long_done = engine.now(); });
  engine.schedule_at(0.1, kPhaseDefault, [&] { engine.transfer(a, b, 0.5e9, [&] { short_done = engine.now(); }); });
  engine.run();
  EXPECT_NEAR(short_done, 0.2 + 2e-6, 1e-9);
  EXPECT_NEAR(long_done, 0.25 + 2e-6, 1e-9);
}

// Events at one instant run by ascending phase, then in scheduling order, whatever order they were added.
TEST(EventQueue, SameTimeEventsRunInPhaseThenSequenceOrder) {
  Engine engine(two_hosts_one_link());
  std::vector<int> order;
  engine.schedule_at(1.0, 3, [&] { order.push_back(30); });
  engine.schedule_at(1.0, 1, [&] { order.push_back(10); });
  engine.schedule_at(1.0, 3, [&] { order.push_back(31); });
  engine.schedule_at(0.5, 9, [&] { order.push_back(0); });
  engine.schedule_at(1.0, 1, [&] { order.push_back(11); });
  engine.schedule_at(1.0, 2, [&] {
    order.push_back(20);
    engine.schedule_at(1.0, 2, [&] { order.push_back(21); });  // same instant, scheduled while draining
  });
  engine.run();
  EXPECT_EQ(order, (std::vector<int>{0, 10, 11, 20, 21, 30, 31}));
  EXPECT_DOUBLE_EQ(engine.now(), 1.0);
  EXPECT_EQ(engine.events_run(), 7u);
}

// A chain of timers each scheduling the next advances time by the exact sum.
TEST(EventQueue, ChainedEventsAdvanceTheClockExactly) {
  Engine engine(two_hosts_one_link());
  int remaining = 1000;
  std::function<void()> step = [&] {
    if (--remaining > 0) engine.schedule_at(engine.now() + 0.25, kPhaseDefault, step);
  };
  engine.schedule_at(0.0, kPhaseDefault, step);
  engine.run();
  EXPECT_EQ(remaining, 0);
  EXPECT_DOUBLE_EQ(engine.now(), 999 * 0.25);
}

// An event scheduled before the armed wake-up (from a completion) still runs at its own time.
TEST(EventQueue, EarlierEventScheduledLaterStillRunsFirst) {
  Engine engine(two_hosts_one_link());
  std::vector<double> times;
  engine.schedule_at(10.0, kPhaseDefault, [&] { times.push_back(engine.now()); });
  engine.transfer(engine.endpoint("a"), engine.endpoint("b"), 1e9, [&] {
    times.push_back(engine.now());
    engine.schedule_at(engine.now() + 1.0, kPhaseDefault, [&] { times.push_back(engine.now()); });
  });
  engine.run();
  ASSERT_EQ(times.size(), 3u);
  EXPECT_NEAR(times[0], 0.100002, 1e-9);
  EXPECT_NEAR(times[1], 1.100002, 1e-9);
  EXPECT_DOUBLE_EQ(times[2], 10.0);
}

// Events run back to back while nothing is in flight; a transfer requested by one of
// them still starts at that event's time, and later events keep their order.
TEST(EventQueue, TransferStartedAfterIdleFastForwardStartsAtItsEventTime) {
  Engine engine(two_hosts_one_link());
  std::vector<std::pair<char, double>> log;
  auto note = [&](char what) { log.emplace_back(what, engine.now()); };
  engine.schedule_at(0.5, kPhaseDefault, [&] { note('a'); });
  engine.schedule_at(1.0, kPhaseSchedule, [&] {
    note('b');
    engine.transfer(engine.endpoint("a"), engine.endpoint("b"), 1e9, [&] { note('t'); });
    engine.disk_io(engine.disk("ssd"), 4e8, DiskOp::kRead, [&] { note('d'); });
  });
  engine.schedule_at(1.0, kPhaseDefault, [&] { note('c'); });
  engine.schedule_at(1.05, kPhaseDefault, [&] { note('e'); });
  engine.run();
  ASSERT_EQ(log.size(), 6u);
  const std::vector<char> order{'a', 'b', 'c', 'e', 'd', 't'};
  for (std::size_t i = 0; i < order.size(); ++i) EXPECT_EQ(log[i].first, order[i]) << i;
  EXPECT_DOUBLE_EQ(log[2].second, 1.0);
  EXPECT_DOUBLE_EQ(log[3].second, 1.05);
  EXPECT_NEAR(log[4].second, 1.0 + 4e8 / 4e9, 1e-9);
  EXPECT_NEAR(log[5].second, 1.0 + 1e9 / 10e9 + 2e-6, 1e-9);
}

// An event that throws (bad input found mid-run: a trace line out of order, a request that can
// never fit) stops the run: later events do not run, a transfer in flight ends without its
// callback, and the exception comes out of run() instead of unwinding through SimGrid's kernel
// (which leaked the timer it was running: 48 bytes under LeakSanitizer on every such run).
TEST(EventQueue, AnExceptionFromAnEventStopsTheRunAndComesOutOfRun) {
  Engine engine(two_hosts_one_link());
  std::vector<char> ran;
  engine.schedule_at(0.0, kPhaseDefault, [&] {
    engine.transfer(engine.endpoint("a"), engine.endpoint("b"), 1e9, [&] { ran.push_back('t'); });
  });
  engine.schedule_at(0.01, kPhaseDefault, [&] { throw std::runtime_error("trace.csv:7: out of order"); });
  engine.schedule_at(0.02, kPhaseDefault, [&] { ran.push_back('x'); });
  try {
    engine.run();
    ADD_FAILURE() << "run() returned";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "trace.csv:7: out of order");
  }
  EXPECT_TRUE(ran.empty());
}

// The same from a completion callback SimGrid runs directly (a disk operation: no route latency).
TEST(EventQueue, AnExceptionFromACompletionComesOutOfRun) {
  Engine engine(two_hosts_one_link());
  bool later = false;
  engine.disk_io(engine.disk("ssd"), 4e6, DiskOp::kWrite, [&] { throw std::runtime_error("cannot write"); });
  engine.schedule_at(1.0, kPhaseDefault, [&] { later = true; });
  EXPECT_THROW(engine.run(), std::runtime_error);
  EXPECT_FALSE(later);
}

}  // namespace
}  // namespace servesim

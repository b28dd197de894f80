// Engine speed benchmark (not a test): events per wall-second for a chain of
// timers, and flow completions per wall-second with 16 concurrent flows on one
// link. Usage: engine_bench [EVENTS] [FLOW_COMPLETIONS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "sim/core/engine.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const long events = argc > 1 ? std::atol(argv[1]) : 1000000;
  const long completions = argc > 2 ? std::atol(argv[2]) : 500000;
  servesim::PlatformSpec spec;
  spec.endpoints = {"a", "b"};
  spec.links = {{"wire", 25e9, 1e-6}};
  spec.routes = {{"a", "b", {"wire"}, true}};
  servesim::Engine engine(spec);

  // 1. A chain of timers: each event schedules the next 1 us later.
  long remaining = events;
  std::function<void()> tick = [&] {
    if (--remaining > 0) engine.schedule_at(engine.now() + 1e-6, servesim::kPhaseDefault, tick);
  };
  engine.schedule_at(0.0, servesim::kPhaseDefault, tick);
  auto start = std::chrono::steady_clock::now();
  engine.run();
  const double timer_wall = seconds_since(start);

  // 1b. The same chain while a long flow is in flight: every event then needs a
  // SimGrid round (the flow's bandwidth share may change at any event).
  remaining = events;
  bool background_done = false;
  engine.schedule_at(engine.now(), servesim::kPhaseDefault, [&] {
    engine.transfer(engine.endpoint("a"), engine.endpoint("b"), 25e9 * 1e-6 * (events + 10),
                    [&] { background_done = true; });
    engine.schedule_at(engine.now(), servesim::kPhaseDefault, tick);
  });
  start = std::chrono::steady_clock::now();
  engine.run();
  const double busy_timer_wall = seconds_since(start);

  // 2. 16 flows always in flight on one link; each completion starts a new flow.
  // "staggered": initial sizes 1..16 MB spread completions over time, so every
  // completion is its own bandwidth re-share. "lockstep": 16 equal flows finish
  // together and restart together (16 completions per re-share).
  const servesim::EndpointId a = engine.endpoint("a");
  const servesim::EndpointId b = engine.endpoint("b");
  auto flows = [&](bool staggered, long* done) {
    long started = 0;
    std::function<void(double)> start_flow = [&](double bytes) {
      ++started;
      engine.transfer(a, b, bytes, [&] {
        ++*done;
        if (started < completions) start_flow(16e6);
      });
    };
    engine.schedule_at(engine.now(), servesim::kPhaseDefault, [&] {
      for (int i = 1; i <= 16; ++i) start_flow(staggered ? 1e6 * i : 16e6);
    });
    const auto begin = std::chrono::steady_clock::now();
    engine.run();
    return seconds_since(begin);
  };
  long staggered_done = 0;
  const double staggered_wall = flows(true, &staggered_done);
  long lockstep_done = 0;
  const double lockstep_wall = flows(false, &lockstep_done);

  std::printf("%-44s %12s %10s %14s\n", "benchmark", "count", "wall_s", "per_wall_s");
  std::printf("%-44s %12ld %10.3f %14.0f\n", "timer chain (events)", events, timer_wall, events / timer_wall);
  std::printf("%-44s %12ld %10.3f %14.0f\n", "timer chain beside a flow in flight (events)", events,
              busy_timer_wall, events / busy_timer_wall);
  std::printf("%-44s %12ld %10.3f %14.0f\n", "16 flows on one link, staggered (completions)", staggered_done,
              staggered_wall, staggered_done / staggered_wall);
  std::printf("%-44s %12ld %10.3f %14.0f\n", "16 flows on one link, lockstep (completions)", lockstep_done,
              lockstep_wall, lockstep_done / lockstep_wall);
  return staggered_done == completions && lockstep_done == completions && remaining == 0 && background_done ? 0 : 1;
}

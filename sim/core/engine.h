#pragma once
// Contract: the discrete-event clock of one simulation. Events live in our own
// queue ordered by (time, phase, sequence): events at the same instant run by
// ascending phase, then in the order they were scheduled, so runs are
// deterministic. A SimGrid kernel timer wakes the queue at its earliest time;
// byte transfers are SimGrid Comms on the platform's links (max-min sharing of
// bandwidth, CM02); a disk is a read link, a write link and a shared link of
// the larger bandwidth, crossed by reads and writes alike. A link is pipelined: a
// flow shares bandwidth from the moment it starts and its last byte arrives the
// route's latency after it was sent, so a lone flow takes bytes / bandwidth +
// latency. (SimGrid would instead hold the flow off the link during the
// latency and needs an extra solve per flow for it.) Completions run first
// among same-time events (phase kPhaseCompletion).
// SimGrid allows one engine per process, hence one Engine per process.
// While no transfer or disk operation is in flight, events run back to back
// without a SimGrid round each (SimGrid is only needed to share bandwidth).
// Callers never see SimGrid types. Time in seconds, sizes in bytes.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sim/core/platform_spec.h"

namespace servesim {

/// Order of events at the same instant (lower runs first).
enum Phase : int {
  kPhaseCompletion = 0,  // transfers / disk operations that finished
  kPhaseIterationEnd = 1,
  kPhaseArrival = 2,
  kPhaseSchedule = 3,
  kPhaseDefault = 4,
};

using EndpointId = int;
using DiskId = int;
enum class DiskOp { kRead, kWrite };

class Engine {
 public:
  /// Builds the SimGrid platform; throws std::invalid_argument on an inconsistent spec.
  explicit Engine(const PlatformSpec& platform);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Current simulated time in seconds.
  double now() const { return now_; }
  /// Runs `fn` at `time` (>= now()); same-time events run by (phase, scheduling order).
  void schedule_at(double time, int phase, std::function<void()> fn);
  /// Moves `bytes` from `src` to `dst` over the route's links; `on_done` runs at completion.
  void transfer(EndpointId src, EndpointId dst, double bytes, std::function<void()> on_done);
  /// Reads or writes `bytes` on `disk`; `on_done` runs at completion.
  void disk_io(DiskId disk, double bytes, DiskOp op, std::function<void()> on_done);

  /// Summed latency of the route src -> dst (what a transfer between them pays on top of its bytes).
  double route_latency(EndpointId src, EndpointId dst);
  EndpointId endpoint(const std::string& name) const;
  DiskId disk(const std::string& name) const;
  /// Bytes of the transfers started so far over each link, by PlatformSpec::links index (listed routes
  /// and routes on demand alike): what energy accounting charges each device for.
  const std::vector<double>& link_bytes() const;
  /// Bytes of the disk operations of kind `op` started so far on `disk`.
  double disk_bytes(DiskId disk, DiskOp op) const;

  /// Runs until no event, transfer or disk operation is left. An exception thrown by an event or
  /// a completion callback stops the run and is rethrown here (not through SimGrid's kernel, which
  /// would leak the timer it was running); transfers then in flight finish without their callbacks.
  void run();
  /// Events executed so far.
  uint64_t events_run() const { return events_run_; }

 private:
  void arm(double time);
  void wake();
  /// Runs `fn`, keeping an exception it throws for run() to rethrow.
  template <class Fn>
  void guarded(Fn&& fn);
  bool simgrid_lags() const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  double now_ = 0.0;
  uint64_t events_run_ = 0;
};

}  // namespace servesim

#pragma once
// Contract: collects spans and counters as Chrome trace-event JSON (the
// "traceEvents" array format that Perfetto and chrome://tracing open). Times
// are given in simulated seconds and written in microseconds with three decimals:
// whole nanoseconds, start and end each rounded and dur their difference, so no
// two spans on one (process = replica, thread = lane) track overlap (a span is
// never written starting before the end of the previous one on its track);
// Perfetto drops overlapping complete events. Args are small integer maps.
// Text is built incrementally; with a sink it is handed over a chunk (~1 MiB)
// at a time, so memory stays bounded on long runs, and finish() hands over the
// rest; without one finish() returns the whole document.

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace servesim {

class TimelineWriter {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit TimelineWriter(Sink sink = {});
  /// Names a process (replica) and one of its threads (lane) for the viewer.
  void name_track(int pid, int tid, const std::string& process_name, const std::string& thread_name);
  /// A complete span [start_s, start_s + duration_s) with integer args.
  void span(int pid, int tid, const char* name, double start_s, double duration_s,
            std::initializer_list<std::pair<const char*, int64_t>> args);
  /// A counter sample (e.g. KV blocks in use).
  void counter(int pid, const char* name, double time_s, double value);
  /// Closes the document; returns it whole, or "" after handing the rest to the sink.
  std::string finish();

 private:
  void separator();
  std::map<std::pair<int, int>, int64_t> track_end_ns_;  // end of the last span per (pid, tid)
  std::string text_;
  Sink sink_;
  bool first_ = true;
};

}  // namespace servesim

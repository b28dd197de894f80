#include "traces/timeline_writer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace servesim {

TimelineWriter::TimelineWriter(Sink sink)
    : text_("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"), sink_(std::move(sink)) {}

// Every event starts with a separator: the place to hand a full chunk to the sink.
void TimelineWriter::separator() {
  constexpr std::size_t kChunkBytes = 1 << 20;
  if (sink_ && text_.size() >= kChunkBytes) {
    sink_(text_);
    text_.clear();
  }
  if (!first_) text_ += ",\n";
  first_ = false;
}

void TimelineWriter::name_track(int pid, int tid, const std::string& process_name, const std::string& thread_name) {
  char buffer[512];
  separator();
  std::snprintf(buffer, sizeof buffer,
                "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}}", pid,
                tid, process_name.c_str());
  text_ += buffer;
  separator();
  std::snprintf(buffer, sizeof buffer,
                "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":\"%s\"}}", pid,
                tid, thread_name.c_str());
  text_ += buffer;
}

namespace {

// Whole nanoseconds (simulated times are far below 2^63 ns = 292 years).
int64_t to_ns(double seconds) { return static_cast<int64_t>(std::llround(seconds * 1e9)); }

// Nanoseconds as microseconds with three decimals, printed from the integer (no second rounding).
void append_us(std::string& text, int64_t ns) {
  char buffer[32];
  const char* sign = ns < 0 ? "-" : "";
  const int64_t magnitude = ns < 0 ? -ns : ns;
  std::snprintf(buffer, sizeof buffer, "%s%lld.%03lld", sign, static_cast<long long>(magnitude / 1000),
                static_cast<long long>(magnitude % 1000));
  text += buffer;
}

}  // namespace

void TimelineWriter::span(int pid, int tid, const char* name, double start_s, double duration_s,
                          std::initializer_list<std::pair<const char*, int64_t>> args) {
  // Start and end are rounded to whole nanoseconds each, and dur is their difference, so a span
  // that starts where the previous one ended never overlaps it (rounding ts and dur separately
  // did, by 1 ns, and Perfetto drops overlapping complete events). A span starting before the
  // end of the last one on its track (float noise in a start computed another way) starts there.
  int64_t start_ns = to_ns(start_s);
  int64_t end_ns = std::max(start_ns, to_ns(start_s + duration_s));
  auto [last, inserted] = track_end_ns_.try_emplace({pid, tid}, end_ns);
  if (!inserted) {
    if (start_ns < last->second) start_ns = std::min(last->second, end_ns);
    last->second = std::max(last->second, end_ns);
  }
  char buffer[256];
  separator();
  std::snprintf(buffer, sizeof buffer, "{\"ph\":\"X\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":", name, pid, tid);
  text_ += buffer;
  append_us(text_, start_ns);
  text_ += ",\"dur\":";
  append_us(text_, end_ns - start_ns);
  text_ += ",\"args\":{";
  bool first = true;
  for (const auto& [key, value] : args) {
    std::snprintf(buffer, sizeof buffer, "%s\"%s\":%lld", first ? "" : ",", key, static_cast<long long>(value));
    text_ += buffer;
    first = false;
  }
  text_ += "}}";
}

void TimelineWriter::counter(int pid, const char* name, double time_s, double value) {
  char buffer[256];
  separator();
  std::snprintf(buffer, sizeof buffer, "{\"ph\":\"C\",\"name\":\"%s\",\"pid\":%d,\"ts\":", name, pid);
  text_ += buffer;
  append_us(text_, to_ns(time_s));
  std::snprintf(buffer, sizeof buffer, ",\"args\":{\"value\":%.6g}}", value);
  text_ += buffer;
}

std::string TimelineWriter::finish() {
  text_ += "\n]}\n";
  if (!sink_) return std::move(text_);
  sink_(text_);
  text_.clear();
  return {};
}

}  // namespace servesim

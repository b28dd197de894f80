#include "traces/timeline_writer.h"

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

void TimelineWriter::span(int pid, int tid, const char* name, double start_s, double duration_s,
                          std::initializer_list<std::pair<const char*, int64_t>> args) {
  char buffer[256];
  separator();
  std::snprintf(buffer, sizeof buffer, "{\"ph\":\"X\",\"name\":\"%s\",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f",
                name, pid, tid, start_s * 1e6, duration_s * 1e6);
  text_ += buffer;
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
  std::snprintf(buffer, sizeof buffer,
                "{\"ph\":\"C\",\"name\":\"%s\",\"pid\":%d,\"ts\":%.3f,\"args\":{\"value\":%.6g}}", name, pid,
                time_s * 1e6, value);
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

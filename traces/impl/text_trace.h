#pragma once
// Shared shape of the text trace readers: a LineReader, the first request read
// ahead at open time (so an empty trace fails before any simulation), and
// arrival times made relative to the first request.

#include <memory>
#include <string>

#include "sim/core/config_error.h"
#include "traces/trace_source.h"

namespace servesim {

class TextTrace : public TraceSource {
 public:
  explicit TextTrace(const std::string& path) : reader_(path) {}

  bool next(RequestSpec& out) override {
    if (has_pending_) {
      has_pending_ = false;
      std::swap(out, pending_);
      return true;
    }
    return read_record(out);
  }
  const std::string& origin() const override { return reader_.path(); }

  /// Reads the first request; an empty trace is an error.
  void prime() {
    if (!read_record(pending_)) throw ConfigError::at(reader_.path(), "trace has no requests");
    has_pending_ = true;
  }

 protected:
  /// Parses the next record (skipping blank lines); false at end of file.
  virtual bool read_record(RequestSpec& out) = 0;

  /// Converts an absolute timestamp (seconds) to seconds since the first request and checks order.
  double relative_arrival(double absolute_s) {
    if (!have_origin_) {
      origin_s_ = absolute_s;
      have_origin_ = true;
    }
    const double relative = absolute_s - origin_s_;
    check_order(reader_, previous_s_, relative);
    previous_s_ = relative;
    return relative;
  }

  LineReader reader_;

 private:
  RequestSpec pending_;
  bool has_pending_ = false;
  bool have_origin_ = false;
  double origin_s_ = 0.0;
  double previous_s_ = 0.0;
};

template <class Reader, class... Args>
std::unique_ptr<TraceSource> open_text_trace(Args&&... args) {
  auto reader = std::make_unique<Reader>(std::forward<Args>(args)...);
  reader->prime();
  return reader;
}

}  // namespace servesim

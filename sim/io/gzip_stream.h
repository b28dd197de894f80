#pragma once
// Contract: compresses a stream of text into gzip (RFC 1952, zlib's deflate) piece by piece and hands
// the compressed bytes to `sink` as they come, so a large output (timeline.json of a long run) is never
// held whole. The header carries no time or name, so the same input gives the same bytes. finish()
// flushes the rest and the trailer; write() after finish() is a bug. A zlib failure throws
// std::runtime_error.

#include <functional>
#include <memory>
#include <string_view>

namespace servesim {

class GzipStream {
 public:
  explicit GzipStream(std::function<void(std::string_view)> sink);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  /// Compresses `text`, passing whatever output is ready to the sink.
  void write(std::string_view text);
  /// Ends the stream: the remaining output and the gzip trailer go to the sink.
  void finish();

 private:
  void pump(int flush);
  struct State;
  std::unique_ptr<State> state_;
  std::function<void(std::string_view)> sink_;
  bool finished_ = false;
};

}  // namespace servesim

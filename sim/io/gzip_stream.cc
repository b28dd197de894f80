#include "sim/io/gzip_stream.h"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sim/core/check.h"

namespace servesim {

struct GzipStream::State {
  z_stream z{};
  unsigned char out[1 << 16];
};

GzipStream::GzipStream(std::function<void(std::string_view)> sink)
    : state_(std::make_unique<State>()), sink_(std::move(sink)) {
  // windowBits 15 + 16: a gzip wrapper; zlib writes its header with no time and no name.
  if (deflateInit2(&state_->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: cannot start the compressor");
  }
}

GzipStream::~GzipStream() { deflateEnd(&state_->z); }

void GzipStream::pump(int flush) {
  z_stream& z = state_->z;
  int status = Z_OK;
  do {
    z.next_out = state_->out;
    z.avail_out = sizeof state_->out;
    status = deflate(&z, flush);
    if (status == Z_STREAM_ERROR) throw std::runtime_error("gzip: compressor failed");
    const std::size_t ready = sizeof state_->out - z.avail_out;
    if (ready > 0) sink_(std::string_view(reinterpret_cast<const char*>(state_->out), ready));
  } while (z.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END));
}

void GzipStream::write(std::string_view text) {
  SERVESIM_CHECK(!finished_, "gzip stream written after finish()");
  z_stream& z = state_->z;
  while (!text.empty()) {
    // zlib counts in uInt: feed at most 1 GiB at a time.
    const std::size_t piece = std::min<std::size_t>(text.size(), std::size_t{1} << 30);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(piece);
    pump(Z_NO_FLUSH);
    text.remove_prefix(piece);
  }
}

void GzipStream::finish() {
  if (finished_) return;
  finished_ = true;
  state_->z.next_in = nullptr;
  state_->z.avail_in = 0;
  pump(Z_FINISH);
}

}  // namespace servesim

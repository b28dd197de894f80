#include "traces/trace_source.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "sim/core/config_error.h"

namespace servesim {

LineReader::LineReader(std::string path)
    : path_(std::move(path)), buffer_(std::make_unique_for_overwrite<char[]>(kBufferBytes)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) {
    throw ConfigError::at(path_, std::string("cannot open trace (") + std::strerror(errno) + ")");
  }
}

LineReader::~LineReader() {
  if (file_ != nullptr) std::fclose(file_);
}

namespace {

// A line this long is no trace record (a binary file, or one without newlines): stop before it fills memory.
constexpr std::size_t kMaxLineBytes = std::size_t{64} << 20;

// A UTF-8 byte order mark at the start of a file is not part of its first line (as JSON parsers skip it).
void strip_bom(std::string_view& line) {
  if (line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.remove_prefix(3);
}

}  // namespace

bool LineReader::next(std::string_view& line) {
  const bool ok = next_line(line);
  if (ok && line_number_ == 1) strip_bom(line);
  return ok;
}

bool LineReader::next_line(std::string_view& line) {
  carry_.clear();
  for (;;) {
    if (begin_ < end_) {
      const char* start = buffer_.get() + begin_;
      const void* newline = std::memchr(start, '\n', end_ - begin_);
      if (newline != nullptr) {
        const std::size_t length = static_cast<const char*>(newline) - start;
        begin_ += length + 1;
        ++line_number_;
        if (carry_.empty()) {
          line = std::string_view(start, length);
        } else {
          carry_.append(start, length);
          line = carry_;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return true;
      }
      carry_.append(start, end_ - begin_);
      begin_ = end_;
      if (carry_.size() > kMaxLineBytes) {
        throw ConfigError::at_line(path_, line_number_ + 1,
                                   "line longer than " + std::to_string(kMaxLineBytes >> 20) +
                                       " MiB (not a trace file?)");
      }
    }
    if (eof_) break;
    end_ = std::fread(buffer_.get(), 1, kBufferBytes, file_);
    begin_ = 0;
    if (end_ == 0) {
      if (std::ferror(file_)) {
        throw ConfigError::at_line(path_, line_number_ + 1, std::string("cannot read trace (") + std::strerror(errno) + ")");
      }
      eof_ = true;
    }
  }
  if (carry_.empty()) return false;
  ++line_number_;
  line = carry_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return true;
}

void LineReader::fail(const std::string& message) const { throw ConfigError::at_line(path_, line_number_, message); }

void split_csv(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = line.find(',', start);
    std::string_view field = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    while (!field.empty() && field.front() == ' ') field.remove_prefix(1);
    while (!field.empty() && field.back() == ' ') field.remove_suffix(1);
    fields.push_back(field);
    if (comma == std::string_view::npos) return;
    start = comma + 1;
  }
}

std::size_t csv_column(const LineReader& reader, const std::vector<std::string_view>& header, std::string_view name) {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  std::string have;
  for (std::string_view column : header) have += (have.empty() ? "" : ", ") + std::string(column);
  reader.fail("missing column '" + std::string(name) + "' (header has: " + have + ")");
}

int64_t parse_token_count(const LineReader& reader, std::string_view column, std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    reader.fail(std::string(column) + ": expected a non-negative integer token count, got '" + std::string(text) +
                "'");
  }
  check_token_count(reader, column, value, text);
  return value;
}

void check_token_count(const LineReader& reader, std::string_view column, int64_t count, std::string_view text) {
  if (count > kMaxRequestTokens) {
    reader.fail(std::string(column) + ": token count " + std::string(text) + " is beyond " +
                std::to_string(kMaxRequestTokens) + " (no model holds such a request)");
  }
}

double parse_number(const LineReader& reader, std::string_view column, std::string_view text) {
  double value = 0.0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    reader.fail(std::string(column) + ": expected a number, got '" + std::string(text) + "'");
  }
  return value;
}

void check_order(const LineReader& reader, double previous_s, double arrival_s) {
  if (arrival_s < previous_s) {
    char text[160];
    std::snprintf(text, sizeof text,
                  "timestamps out of order: %.9g s after the start is earlier than the previous request's %.9g s",
                  arrival_s, previous_s);
    reader.fail(text);
  }
}

namespace {

class TransformedSource : public TraceSource {
 public:
  TransformedSource(std::unique_ptr<TraceSource> inner, double start_s, double end_s, double rate_scale,
                    int64_t max_requests)
      : inner_(std::move(inner)), start_s_(start_s), end_s_(end_s), rate_scale_(rate_scale),
        max_requests_(max_requests) {}

  bool next(RequestSpec& out) override {
    if (max_requests_ > 0 && emitted_ >= max_requests_) return false;
    while (inner_->next(out)) {
      if (out.arrival_s < start_s_) continue;
      if (out.arrival_s >= end_s_) return false;  // arrivals are ordered: nothing later qualifies
      out.arrival_s = (out.arrival_s - start_s_) / rate_scale_;
      ++emitted_;
      return true;
    }
    return false;
  }
  const std::string& origin() const override { return inner_->origin(); }

 private:
  std::unique_ptr<TraceSource> inner_;
  double start_s_, end_s_, rate_scale_;
  int64_t max_requests_;
  int64_t emitted_ = 0;
};

}  // namespace

std::unique_ptr<TraceSource> transform_trace(std::unique_ptr<TraceSource> source, double start_s, double end_s,
                                             double rate_scale, int64_t max_requests) {
  if (start_s == 0.0 && !std::isfinite(end_s) && rate_scale == 1.0 && max_requests == 0) return source;
  return std::make_unique<TransformedSource>(std::move(source), start_s, end_s, rate_scale, max_requests);
}

void set_prefix_group(RequestSpec& spec, uint64_t group, int64_t tokens) {
  // One hash covering the group's tokens: every block inside it gets its own chained key
  // (prompt_block_hashes keys blocks by their offset inside the hash block).
  spec.prefix_hashes.assign(1, static_cast<int64_t>(group & 0x7fffffffffffffffULL));
  spec.hash_block_tokens = tokens;
}

uint64_t content_id(std::string_view name) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h == 0 ? 1 : h;
}

}  // namespace servesim

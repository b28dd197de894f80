#pragma once
// Contract: a stream of requests in arrival order, read one at a time so a
// trace of any length replays in constant memory. Each format (Azure CSV,
// Mooncake JSONL, Vidur CSV, generic JSONL) registers a TraceSource factory
// under "trace-format". Readers validate as they go: a missing column, a
// non-numeric or negative length, or a timestamp earlier than the previous one
// throws ConfigError "FILE:LINE: ..." (an empty trace throws at open). Arrival
// times are seconds from the first request of the trace. A generator
// (workloads/) is also a TraceSource, with `line == 0`.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/params.h"

namespace servesim {

/// One request as the workload describes it (no simulation state).
struct RequestSpec {
  double arrival_s = 0.0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t priority = 0;  // smaller = more important (priority scheduler)
  /// Prefix-block hashes: equal values at equal positions = shareable KV prefix.
  std::vector<int64_t> prefix_hashes;
  int64_t hash_block_tokens = 0;  // tokens per prefix hash (Mooncake: 512)
  /// Conversation this request continues (0 = none): its prompt begins with the previous turn's
  /// prompt and answer, so blocks at equal positions of one session hold the same content.
  uint64_t session = 0;
  long line = 0;                  // source line for messages (0 = generated)
};

/// Describes a shared prefix the way prefix_hashes do: the first `tokens` tokens of the prompt
/// are the content of prefix group `group` (a system prompt, a few-shot template, a document).
void set_prefix_group(RequestSpec& spec, uint64_t group, int64_t tokens);
/// A 64-bit identity for a group or session named by a string (FNV-1a; never 0).
uint64_t content_id(std::string_view name);

class TraceSource {
 public:
  static constexpr const char* kInterfaceName = "trace-format";
  static constexpr const char* kInterfaceSummary = "reads a request trace file as a stream (\"workload\": {\"trace\": {\"format\": NAME, \"path\": FILE}})";
  using Factory = std::function<std::unique_ptr<TraceSource>(const ParamValues&, const std::string& path)>;

  virtual ~TraceSource() = default;
  /// Fills `out` with the next request; false at the end of the stream.
  virtual bool next(RequestSpec& out) = 0;
  /// Where requests come from, for messages ("conv.csv", "/workload/generator").
  virtual const std::string& origin() const = 0;
};

/// Buffered line reader used by the text readers (no per-line allocation).
class LineReader {
 public:
  /// Opens `path`; throws ConfigError "PATH: cannot open trace (...)".
  explicit LineReader(std::string path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  /// Next line without its newline (and without a trailing '\r', or a UTF-8 byte order mark
  /// opening the file); false at end of file. A line over 64 MiB or a read error throws ConfigError.
  bool next(std::string_view& line);
  long line_number() const { return line_number_; }
  const std::string& path() const { return path_; }
  [[noreturn]] void fail(const std::string& message) const;

 private:
  bool next_line(std::string_view& line);

  std::string path_;
  std::FILE* file_ = nullptr;
  // Read in 1 MiB blocks; left uninitialised (a short trace touches only the pages it fills).
  static constexpr std::size_t kBufferBytes = std::size_t{1} << 20;
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  long line_number_ = 0;
  std::string carry_;
};

/// Splits a CSV header into column names and returns the index of `name`; fails on the header line if absent.
std::size_t csv_column(const LineReader& reader, const std::vector<std::string_view>& header, std::string_view name);
/// Splits `line` at commas into `fields` (no quoting; trace CSVs carry numbers only).
void split_csv(std::string_view line, std::vector<std::string_view>& fields);
/// Most tokens one request may have in or out: counts stay far from int64 overflow when added up.
constexpr int64_t kMaxRequestTokens = int64_t{1} << 40;

/// Fails "COLUMN: token count X is beyond ..." when `count` (written `text`) exceeds kMaxRequestTokens.
void check_token_count(const LineReader& reader, std::string_view column, int64_t count, std::string_view text);
/// Parses a non-negative integer token count; fails with "COLUMN: expected a non-negative integer, got 'X'".
int64_t parse_token_count(const LineReader& reader, std::string_view column, std::string_view text);
/// Parses a number; fails with "COLUMN: expected a number, got 'X'".
double parse_number(const LineReader& reader, std::string_view column, std::string_view text);

/// Checks monotonic arrival; fails "timestamp X s is earlier than the previous request's Y s".
void check_order(const LineReader& reader, double previous_s, double arrival_s);

/// Wraps a source: keeps requests with original arrival in [start_s, end_s), shifts them
/// to start at 0, then divides arrival times by `rate_scale` (2 = twice the rate); at most
/// `max_requests` (0 = all).
std::unique_ptr<TraceSource> transform_trace(std::unique_ptr<TraceSource> source, double start_s, double end_s,
                                             double rate_scale, int64_t max_requests);

}  // namespace servesim

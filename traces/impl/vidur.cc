// Vidur request CSV: arrived_at (s), num_prefill_tokens, num_decode_tokens.
#include <vector>

#include "sim/registry.h"
#include "traces/impl/text_trace.h"

namespace servesim {
namespace {

class VidurTrace : public TextTrace {
 public:
  explicit VidurTrace(const std::string& path) : TextTrace(path) {
    std::string_view line;
    if (!reader_.next(line)) throw ConfigError::at(path, "trace has no requests (empty file)");
    header_text_ = std::string(line);
    split_csv(header_text_, fields_);
    time_col_ = csv_column(reader_, fields_, "arrived_at");
    input_col_ = csv_column(reader_, fields_, "num_prefill_tokens");
    output_col_ = csv_column(reader_, fields_, "num_decode_tokens");
    columns_ = fields_.size();
  }

 protected:
  bool read_record(RequestSpec& out) override {
    std::string_view line;
    do {
      if (!reader_.next(line)) return false;
    } while (line.empty());
    split_csv(line, fields_);
    if (fields_.size() != columns_) {
      reader_.fail("expected " + std::to_string(columns_) + " columns, found " + std::to_string(fields_.size()));
    }
    const double arrived = parse_number(reader_, "arrived_at", fields_[time_col_]);
    if (arrived < 0.0) reader_.fail("arrived_at: must be >= 0 s, got '" + std::string(fields_[time_col_]) + "'");
    out.arrival_s = relative_arrival(arrived);
    out.input_tokens = parse_token_count(reader_, "num_prefill_tokens", fields_[input_col_]);
    out.output_tokens = parse_token_count(reader_, "num_decode_tokens", fields_[output_col_]);
    out.priority = 0;
    out.prefix_hashes.clear();
    out.hash_block_tokens = 0;
    out.line = reader_.line_number();
    return true;
  }

 private:
  std::string header_text_;
  std::vector<std::string_view> fields_;
  std::size_t time_col_ = 0, input_col_ = 0, output_col_ = 0, columns_ = 0;
};

SERVESIM_REGISTER(TraceSource, "vidur",
                  "Vidur request CSV: arrived_at (s), num_prefill_tokens, num_decode_tokens", ParamSpecs{},
                  [](const ParamValues&, const std::string& path) { return open_text_trace<VidurTrace>(path); });

}  // namespace
}  // namespace servesim

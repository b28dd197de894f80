#pragma once
// Shared shape of the CSV trace formats: a header naming an arrival column and
// two token-count columns (found by name, in any order), then one request per
// row with exactly as many fields as the header. Each format only says how its
// arrival field becomes seconds.

#include <string>
#include <string_view>
#include <vector>

#include "traces/impl/text_trace.h"

namespace servesim {

struct CsvColumns {
  const char* arrival;
  const char* input_tokens;
  const char* output_tokens;
};

class CsvTrace : public TextTrace {
 public:
  CsvTrace(const std::string& path, const CsvColumns& columns) : TextTrace(path), names_(columns) {
    std::string_view line;
    if (!reader_.next(line)) throw ConfigError::at(path, "trace has no requests (empty file)");
    header_text_ = std::string(line);
    split_csv(header_text_, fields_);
    arrival_col_ = csv_column(reader_, fields_, names_.arrival);
    input_col_ = csv_column(reader_, fields_, names_.input_tokens);
    output_col_ = csv_column(reader_, fields_, names_.output_tokens);
    columns_ = fields_.size();
  }

 protected:
  /// Absolute arrival time in seconds of one row's arrival field (fails through reader_).
  virtual double parse_arrival(std::string_view field) = 0;

  bool read_record(RequestSpec& out) override {
    std::string_view line;
    do {
      if (!reader_.next(line)) return false;
    } while (line.empty());
    split_csv(line, fields_);
    if (fields_.size() != columns_) {
      reader_.fail("expected " + std::to_string(columns_) + " columns, found " + std::to_string(fields_.size()));
    }
    out.arrival_s = relative_arrival(parse_arrival(fields_[arrival_col_]));
    out.input_tokens = parse_token_count(reader_, names_.input_tokens, fields_[input_col_]);
    out.output_tokens = parse_token_count(reader_, names_.output_tokens, fields_[output_col_]);
    out.priority = 0;
    out.prefix_hashes.clear();
    out.hash_block_tokens = 0;
    out.line = reader_.line_number();
    return true;
  }

 private:
  CsvColumns names_;
  std::string header_text_;
  std::vector<std::string_view> fields_;
  std::size_t arrival_col_ = 0, input_col_ = 0, output_col_ = 0, columns_ = 0;
};

}  // namespace servesim

// Azure LLM inference trace 2023 (Splitwise): TIMESTAMP,ContextTokens,GeneratedTokens
// with TIMESTAMP as "YYYY-MM-DD HH:MM:SS.fffffff".
#include <charconv>
#include <vector>

#include "sim/registry.h"
#include "traces/impl/text_trace.h"

namespace servesim {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

class AzureTrace : public TextTrace {
 public:
  explicit AzureTrace(const std::string& path) : TextTrace(path) {
    std::string_view line;
    if (!reader_.next(line)) throw ConfigError::at(path, "trace has no requests (empty file)");
    header_text_ = std::string(line);
    split_csv(header_text_, fields_);
    time_col_ = csv_column(reader_, fields_, "TIMESTAMP");
    input_col_ = csv_column(reader_, fields_, "ContextTokens");
    output_col_ = csv_column(reader_, fields_, "GeneratedTokens");
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
    out.arrival_s = relative_arrival(parse_timestamp(fields_[time_col_]));
    out.input_tokens = parse_token_count(reader_, "ContextTokens", fields_[input_col_]);
    out.output_tokens = parse_token_count(reader_, "GeneratedTokens", fields_[output_col_]);
    out.priority = 0;
    out.prefix_hashes.clear();
    out.hash_block_tokens = 0;
    out.line = reader_.line_number();
    return true;
  }

 private:
  double parse_timestamp(std::string_view text) const {
    // YYYY-MM-DD HH:MM:SS[.fraction]
    auto number = [&](std::size_t pos, std::size_t len, int64_t& value) {
      if (pos + len > text.size()) return false;
      auto [end, error] = std::from_chars(text.data() + pos, text.data() + pos + len, value);
      return error == std::errc() && end == text.data() + pos + len;
    };
    int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    const bool ok = text.size() >= 19 && number(0, 4, y) && text[4] == '-' && number(5, 2, mo) && text[7] == '-' &&
                    number(8, 2, d) && (text[10] == ' ' || text[10] == 'T') && number(11, 2, h) &&
                    text[13] == ':' && number(14, 2, mi) && text[16] == ':' && number(17, 2, s);
    double fraction = 0.0;
    bool fraction_ok = true;
    if (text.size() > 19) {
      fraction_ok = text[19] == '.' && text.size() > 20;
      double scale = 0.1;
      for (std::size_t i = 20; fraction_ok && i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') fraction_ok = false;
        fraction += (text[i] - '0') * scale;
        scale *= 0.1;
      }
    }
    if (!ok || !fraction_ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
      reader_.fail("TIMESTAMP: expected 'YYYY-MM-DD HH:MM:SS.fffffff', got '" + std::string(text) + "'");
    }
    return static_cast<double>(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) + fraction;
  }

  std::string header_text_;
  std::vector<std::string_view> fields_;
  std::size_t time_col_ = 0, input_col_ = 0, output_col_ = 0, columns_ = 0;
};

SERVESIM_REGISTER(TraceSource, "azure",
                  "Azure LLM inference trace 2023 CSV: TIMESTAMP,ContextTokens,GeneratedTokens", ParamSpecs{},
                  [](const ParamValues&, const std::string& path) { return open_text_trace<AzureTrace>(path); });

}  // namespace
}  // namespace servesim

// Azure LLM inference trace 2023 (Splitwise): TIMESTAMP,ContextTokens,GeneratedTokens
// with TIMESTAMP as "YYYY-MM-DD HH:MM:SS.fffffff".
#include <charconv>
#include <chrono>

#include "sim/core/registry.h"
#include "traces/impl/csv_trace.h"

namespace servesim {
namespace {

class AzureTrace : public CsvTrace {
 public:
  explicit AzureTrace(const std::string& path) : CsvTrace(path, {"TIMESTAMP", "ContextTokens", "GeneratedTokens"}) {}

 protected:
  double parse_arrival(std::string_view field) override { return parse_timestamp(field); }

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
    if (!ok || !fraction_ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        s < 0 || s > 60) {
      reader_.fail("TIMESTAMP: expected 'YYYY-MM-DD HH:MM:SS.fffffff', got '" + std::string(text) + "'");
    }
    using namespace std::chrono;
    const year_month_day date{year(static_cast<int>(y)), month(static_cast<unsigned>(mo)),
                              day(static_cast<unsigned>(d))};
    if (!date.ok()) {
      // 2023-02-31 is no day: taken as 2023-03-03 it would open a days-long gap in the trace.
      reader_.fail("TIMESTAMP: no such date '" + std::string(text.substr(0, 10)) + "' (in '" + std::string(text) +
                   "')");
    }
    const int64_t days = sys_days(date).time_since_epoch().count();
    return static_cast<double>(days * 86400 + h * 3600 + mi * 60 + s) + fraction;
  }
};

SERVESIM_REGISTER(TraceSource, "azure",
                  "Azure LLM inference trace 2023 CSV: TIMESTAMP,ContextTokens,GeneratedTokens", ParamSpecs{},
                  [](const ParamValues&, const std::string& path) { return open_text_trace<AzureTrace>(path); });

}  // namespace
}  // namespace servesim

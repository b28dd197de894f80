// Vidur's request CSV: arrived_at (seconds), num_prefill_tokens, num_decode_tokens.
#include "sim/core/registry.h"
#include "traces/impl/csv_trace.h"

namespace servesim {
namespace {

class VidurTrace : public CsvTrace {
 public:
  explicit VidurTrace(const std::string& path)
      : CsvTrace(path, {"arrived_at", "num_prefill_tokens", "num_decode_tokens"}) {}

 protected:
  double parse_arrival(std::string_view field) override {
    const double arrived = parse_number(reader_, "arrived_at", field);
    if (arrived < 0.0) reader_.fail("arrived_at: must be >= 0 s, got '" + std::string(field) + "'");
    return arrived;
  }
};

SERVESIM_REGISTER(TraceSource, "vidur",
                  "Vidur request CSV: arrived_at (s), num_prefill_tokens, num_decode_tokens", ParamSpecs{},
                  [](const ParamValues&, const std::string& path) { return open_text_trace<VidurTrace>(path); });

}  // namespace
}  // namespace servesim

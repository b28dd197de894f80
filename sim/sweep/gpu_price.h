#pragma once
// Contract: what a GPU costs to rent, for a sweep's cost metrics. A hardware
// catalog entry (or an inline node) may carry, in its "gpu" object, an
// on-demand list price: "price": {"usd_per_gpu_hour": NUMBER, "date":
// "YYYY-MM-DD", "source": TEXT} — the price of one GPU for one hour, the day
// it was read and where (provider, offer, page). A sweep file's "prices"
// ({ENTRY NAME: PRICE}) override the catalog's for that sweep. A GPU without
// a price is "not priced": its plans get no cost, never a made-up one. Runs
// never read prices (the deployment reader only lets the key through), so a
// price changes no simulated number.

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/config_node.h"

namespace servesim {

struct GpuPrice {
  double usd_per_gpu_hour = 0.0;
  std::string date;    // YYYY-MM-DD the price was read
  std::string source;  // provider, offer and page
  std::string origin;  // where this price was given: the catalog file, or the sweep file's "prices"
};

/// Reads and checks a price object: all three keys, a positive finite price, a YYYY-MM-DD date,
/// a non-empty source; throws ConfigError at its JSON pointer.
GpuPrice read_gpu_price(ConfigNode& node);

/// Prices of the hardware a sweep's plans name, each resolved once.
class PriceBook {
 public:
  /// `overrides`: the sweep file's "prices" (already checked), given in `sweep_file`.
  PriceBook(nlohmann::ordered_json overrides, std::string sweep_file);

  /// The price of `hardware` (a catalog entry name or an inline node object); nullopt = not priced.
  /// Throws ConfigError for an unknown entry or a malformed price.
  std::optional<GpuPrice> price(const nlohmann::json& hardware);
  /// A name for `hardware` in messages and provenance: the entry name, or the inline GPU's name.
  static std::string hardware_name(const nlohmann::json& hardware);
  /// Every hardware looked up so far: name -> its price (with origin) or "not priced".
  nlohmann::ordered_json used() const;

 private:
  nlohmann::ordered_json overrides_;
  std::string sweep_file_;
  std::map<std::string, std::optional<GpuPrice>> cache_;  // by hardware_name
};

}  // namespace servesim

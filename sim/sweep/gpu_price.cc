#include "sim/sweep/gpu_price.h"

#include <cmath>
#include <memory>

#include "sim/config/catalog.h"
#include "sim/config/provenance.h"
#include "sim/core/config_error.h"

namespace servesim {
namespace {

bool is_date(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && i != 7 && (text[i] < '0' || text[i] > '9')) return false;
  }
  const int month = std::stoi(text.substr(5, 2));
  const int day = std::stoi(text.substr(8, 2));
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

nlohmann::ordered_json price_json(const GpuPrice& price) {
  return {{"usd_per_gpu_hour", price.usd_per_gpu_hour},
          {"date", price.date},
          {"source", price.source},
          {"given_in", price.origin}};
}

}  // namespace

GpuPrice read_gpu_price(ConfigNode& node) {
  node.require_object();
  GpuPrice price;
  price.usd_per_gpu_hour = node.number("usd_per_gpu_hour", 0.0, 1e6);
  if (!(price.usd_per_gpu_hour > 0.0)) node.fail("usd_per_gpu_hour", "must be more than 0");
  price.date = node.string("date");
  if (!is_date(price.date)) node.fail("date", "expected the day the price was read as YYYY-MM-DD, got \"" + price.date + "\"");
  price.source = node.string("source");
  if (price.source.empty()) node.fail("source", "must say where the price comes from (provider, offer, page)");
  node.finish();
  price.origin = node.file();
  return price;
}

PriceBook::PriceBook(nlohmann::ordered_json overrides, std::string sweep_file)
    : overrides_(std::move(overrides)), sweep_file_(std::move(sweep_file)) {}

std::string PriceBook::hardware_name(const nlohmann::json& hardware) { return ::servesim::hardware_name(hardware); }

std::optional<GpuPrice> PriceBook::price(const nlohmann::json& hardware) {
  const std::string name = hardware_name(hardware);
  if (auto it = cache_.find(name); it != cache_.end()) return it->second;
  std::optional<GpuPrice> found;
  if (hardware.is_string() && overrides_.contains(name)) {
    ConfigNode root(std::make_shared<const nlohmann::json>(nlohmann::json::parse(overrides_.dump())), sweep_file_);
    ConfigNode node = root.child(name);
    found = read_gpu_price(node);
    found->origin = sweep_file_ + " (prices)";
  } else if (hardware.is_string()) {
    ConfigNode entry = load_entry(kHardwareCatalog, name, "hardware", sweep_file_);
    if (entry.has("gpu")) {
      ConfigNode gpu = entry.child("gpu");
      if (gpu.is_object() && gpu.has("price")) {
        ConfigNode node = gpu.child("price");
        found = read_gpu_price(node);
        found->origin = std::string(kHardwareCatalog) + "/" + name + ".json";  // not the install path
      }
    }
  } else if (hardware.is_object() && hardware.contains("gpu") && hardware.at("gpu").is_object() &&
             hardware.at("gpu").contains("price")) {
    ConfigNode root(std::make_shared<const nlohmann::json>(hardware), "inline hardware (" + name + ")");
    ConfigNode gpu = root.child("gpu");
    ConfigNode node = gpu.child("price");
    found = read_gpu_price(node);
  }
  cache_.emplace(name, found);
  return found;
}

nlohmann::ordered_json PriceBook::used() const {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& [name, price] : cache_) out[name] = price ? price_json(*price) : nlohmann::ordered_json("not priced");
  return out;
}

}  // namespace servesim

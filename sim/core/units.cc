#include "sim/core/units.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace servesim {
namespace {

struct Prefix {
  std::string_view symbol;
  double factor;
};

// Longest symbols first so "Gi" wins over "G".
constexpr std::array<Prefix, 12> kPrefixes{{{"Ki", 1024.0},
                                            {"Mi", 1048576.0},
                                            {"Gi", 1073741824.0},
                                            {"Ti", 1099511627776.0},
                                            {"Pi", 1125899906842624.0},
                                            {"k", 1e3},
                                            {"K", 1e3},
                                            {"M", 1e6},
                                            {"G", 1e9},
                                            {"T", 1e12},
                                            {"P", 1e15},
                                            {"m", 1e-3}}};

struct BaseUnit {
  std::string_view symbol;
  Dimension dimension;
  double factor;
  bool takes_prefix;
};

constexpr std::array<BaseUnit, 19> kUnits{{
    {"B", Dimension::kBytes, 1.0, true},
    {"bytes", Dimension::kBytes, 1.0, false},
    {"b", Dimension::kBytes, 0.125, true},
    {"bit", Dimension::kBytes, 0.125, true},
    {"B/s", Dimension::kBytesPerSecond, 1.0, true},
    {"Bps", Dimension::kBytesPerSecond, 1.0, true},
    {"b/s", Dimension::kBytesPerSecond, 0.125, true},
    {"bit/s", Dimension::kBytesPerSecond, 0.125, true},
    {"bps", Dimension::kBytesPerSecond, 0.125, true},
    {"s", Dimension::kSeconds, 1.0, false},
    {"ms", Dimension::kSeconds, 1e-3, false},
    {"us", Dimension::kSeconds, 1e-6, false},
    {"ns", Dimension::kSeconds, 1e-9, false},
    {"min", Dimension::kSeconds, 60.0, false},
    {"W", Dimension::kWatts, 1.0, true},
    {"J", Dimension::kJoules, 1.0, true},
    {"FLOP/s", Dimension::kFlopsPerSecond, 1.0, true},
    {"FLOPS", Dimension::kFlopsPerSecond, 1.0, true},
    {"Hz", Dimension::kHertz, 1.0, true},
}};

bool lookup_unit(std::string_view unit, Dimension* dimension, double* factor) {
  for (const BaseUnit& base : kUnits) {
    if (unit == base.symbol) {
      *dimension = base.dimension;
      *factor = base.factor;
      return true;
    }
  }
  for (const Prefix& prefix : kPrefixes) {
    if (unit.size() <= prefix.symbol.size() || unit.substr(0, prefix.symbol.size()) != prefix.symbol) continue;
    std::string_view rest = unit.substr(prefix.symbol.size());
    for (const BaseUnit& base : kUnits) {
      if (base.takes_prefix && rest == base.symbol) {
        *dimension = base.dimension;
        *factor = base.factor * prefix.factor;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

std::string dimension_description(Dimension dimension) {
  switch (dimension) {
    case Dimension::kBytes: return "a size, e.g. \"80 GiB\"";
    case Dimension::kBytesPerSecond: return "a bandwidth, e.g. \"64 GB/s\"";
    case Dimension::kSeconds: return "a duration, e.g. \"1.5 us\"";
    case Dimension::kWatts: return "a power, e.g. \"700 W\"";
    case Dimension::kJoules: return "an energy, e.g. \"2 kJ\"";
    case Dimension::kFlopsPerSecond: return "a compute rate, e.g. \"989 TFLOP/s\"";
    case Dimension::kHertz: return "a frequency, e.g. \"1.98 GHz\"";
  }
  return "a quantity";
}

double parse_quantity(std::string_view text, Dimension dimension) {
  const std::string buffer(text);
  const char* begin = buffer.c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(value)) {
    throw std::invalid_argument("expected a number followed by a unit");
  }
  std::string_view unit(end);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  while (!unit.empty() && unit.back() == ' ') unit.remove_suffix(1);
  if (unit.empty()) throw std::invalid_argument("missing unit");
  Dimension found = Dimension::kBytes;
  double factor = 0.0;
  if (!lookup_unit(unit, &found, &factor)) {
    throw std::invalid_argument("unknown unit '" + std::string(unit) + "'");
  }
  if (found != dimension) {
    throw std::invalid_argument("unit '" + std::string(unit) + "' has the wrong dimension");
  }
  return value * factor;
}

std::string format_seconds(double seconds) {
  char buffer[64];
  if (seconds < 1e-3) {
    std::snprintf(buffer, sizeof buffer, "%.2f us", seconds * 1e6);
  } else if (seconds < 1.0) {
    std::snprintf(buffer, sizeof buffer, "%.2f ms", seconds * 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.3f s", seconds);
  }
  return buffer;
}

}  // namespace servesim

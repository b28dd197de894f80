#pragma once
// Contract: parses physical quantities written as unit strings ("80 GiB",
// "3.35 TB/s", "1.5 us", "700 W") into SI base units: bytes, bytes per second,
// seconds, watts, joules, FLOP per second, hertz. Decimal prefixes (k, M, G, T,
// P) are powers of 1000, binary prefixes (Ki, Mi, Gi, Ti) powers of 1024.
// Bits ("Gb/s", "Gbit/s") are converted to bytes. Pure functions, no state.

#include <string>
#include <string_view>

namespace servesim {

enum class Dimension {
  kBytes,
  kBytesPerSecond,
  kSeconds,
  kWatts,
  kJoules,
  kFlopsPerSecond,
  kHertz,
};

/// Human name of a dimension with an example, for error messages ("bandwidth, e.g. \"64 GB/s\"").
std::string dimension_description(Dimension dimension);

/// Parses `text` as a quantity of `dimension`; throws std::invalid_argument whose
/// what() says why (no number, unknown unit, wrong dimension).
double parse_quantity(std::string_view text, Dimension dimension);

/// Formats seconds compactly for humans ("1.50 ms", "12.3 s").
std::string format_seconds(double seconds);

}  // namespace servesim

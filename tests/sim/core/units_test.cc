#include "sim/core/units.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace servesim {
namespace {

TEST(Units, ParsesBinaryAndDecimalSizes) {
  EXPECT_DOUBLE_EQ(parse_quantity("80 GiB", Dimension::kBytes), 80.0 * 1073741824.0);
  EXPECT_DOUBLE_EQ(parse_quantity("141 GB", Dimension::kBytes), 141e9);
  EXPECT_DOUBLE_EQ(parse_quantity("16 KiB", Dimension::kBytes), 16384.0);
  EXPECT_DOUBLE_EQ(parse_quantity("512B", Dimension::kBytes), 512.0);
}

TEST(Units, ParsesBandwidthsIncludingBits) {
  EXPECT_DOUBLE_EQ(parse_quantity("3.35 TB/s", Dimension::kBytesPerSecond), 3.35e12);
  EXPECT_DOUBLE_EQ(parse_quantity("64 GB/s", Dimension::kBytesPerSecond), 64e9);
  EXPECT_DOUBLE_EQ(parse_quantity("400 Gb/s", Dimension::kBytesPerSecond), 50e9);
  EXPECT_DOUBLE_EQ(parse_quantity("1 GiB/s", Dimension::kBytesPerSecond), 1073741824.0);
}

TEST(Units, ParsesDurationsPowerEnergyAndRates) {
  EXPECT_DOUBLE_EQ(parse_quantity("1.5 us", Dimension::kSeconds), 1.5e-6);
  EXPECT_DOUBLE_EQ(parse_quantity("2 ms", Dimension::kSeconds), 2e-3);
  EXPECT_DOUBLE_EQ(parse_quantity("3 s", Dimension::kSeconds), 3.0);
  EXPECT_DOUBLE_EQ(parse_quantity("10 ns", Dimension::kSeconds), 1e-8);
  EXPECT_DOUBLE_EQ(parse_quantity("700 W", Dimension::kWatts), 700.0);
  EXPECT_DOUBLE_EQ(parse_quantity("2 kJ", Dimension::kJoules), 2000.0);
  EXPECT_DOUBLE_EQ(parse_quantity("989 TFLOP/s", Dimension::kFlopsPerSecond), 989e12);
  EXPECT_DOUBLE_EQ(parse_quantity("1.98 GHz", Dimension::kHertz), 1.98e9);
}

TEST(Units, RejectsWrongDimensionUnknownUnitAndMissingNumber) {
  EXPECT_THROW(parse_quantity("5 W", Dimension::kBytesPerSecond), std::invalid_argument);
  EXPECT_THROW(parse_quantity("5 parsecs", Dimension::kSeconds), std::invalid_argument);
  EXPECT_THROW(parse_quantity("GB/s", Dimension::kBytesPerSecond), std::invalid_argument);
  EXPECT_THROW(parse_quantity("64", Dimension::kBytesPerSecond), std::invalid_argument);
  try {
    parse_quantity("5 W", Dimension::kBytesPerSecond);
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(), "unit 'W' has the wrong dimension");
  }
}

}  // namespace
}  // namespace servesim

#include "workloads/random_variates.h"

#include <bit>
#include <cmath>

namespace servesim {

namespace {
constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;  // 2^-53
}  // namespace

double uniform_01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * kTwoToMinus53; }

double uniform_open_01(std::mt19937_64& rng) {
  return (static_cast<double>(rng() >> 11) + 0.5) * kTwoToMinus53;
}

int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  const uint64_t range = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);  // hi - lo, no overflow
  if (range == 0) return lo;
  const int shift = std::countl_zero(range);  // keep the top 64 - shift bits: the first power of two > range
  for (;;) {
    const uint64_t x = rng() >> shift;
    if (x <= range) return static_cast<int64_t>(static_cast<uint64_t>(lo) + x);
  }
}

double standard_normal(std::mt19937_64& rng) {
  for (;;) {
    const double u = 2.0 * uniform_01(rng) - 1.0;
    const double v = 2.0 * uniform_01(rng) - 1.0;
    const double s = u * u + v * v;
    if (s < 1.0 && s > 0.0) return u * std::sqrt(-2.0 * std::log(s) / s);
  }
}

double exponential_variate(std::mt19937_64& rng, double rate) { return -std::log(uniform_open_01(rng)) / rate; }

double gamma_variate(std::mt19937_64& rng, double shape, double scale) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) x U^(1/a) (Marsaglia and Tsang, section 6).
    const double boosted = gamma_variate(rng, shape + 1.0, 1.0);
    return scale * boosted * std::exp(std::log(uniform_open_01(rng)) / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x = 0.0;
    double v = 0.0;
    do {
      x = standard_normal(rng);
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform_open_01(rng);
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2) return scale * d * v;
    if (std::log(u) < 0.5 * x2 + d * (1.0 - v + std::log(v))) return scale * d * v;
  }
}

}  // namespace servesim

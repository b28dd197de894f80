#pragma once
// Contract: the random variates the workload generators draw, with algorithms
// written here so a seed gives the same stream with every standard library.
// std::mt19937_64 is specified bit for bit by the standard, but the std::
// distributions are not (libstdc++, libc++ and MSVC each draw normals, gammas
// and bounded integers their own way), so servesim never uses them. Integer
// variates use integer arithmetic only; real ones use IEEE arithmetic, sqrt and
// the C library's log and exp (correctly rounded in glibc for all but rare
// arguments; a libm that rounds differently can move a draw in its last bit).
// Every function consumes a fixed number of engine outputs per attempt and
// keeps no state of its own, so draws interleave freely.

#include <cstdint>
#include <random>

namespace servesim {

/// Uniform on [0, 1): the top 53 bits of one engine output, times 2^-53.
double uniform_01(std::mt19937_64& rng);
/// Uniform on (0, 1): the top 53 bits plus one half, times 2^-53 (never 0, so log is finite).
double uniform_open_01(std::mt19937_64& rng);
/// Uniform integer in [lo, hi] (lo <= hi), unbiased: rejection from the smallest power-of-two range
/// covering hi - lo + 1 (one engine output per attempt).
int64_t uniform_int(std::mt19937_64& rng, int64_t lo, int64_t hi);
/// Standard normal N(0, 1): Marsaglia's polar method (two uniforms per attempt; the second
/// variate of an accepted pair is discarded, so no state is kept).
double standard_normal(std::mt19937_64& rng);
/// Exponential with rate `rate` (> 0), mean 1 / rate: -log(U) / rate with U uniform on (0, 1).
double exponential_variate(std::mt19937_64& rng, double rate);
/// Gamma with shape `shape` (> 0) and scale `scale` (> 0), mean shape x scale: Marsaglia and
/// Tsang's squeeze method (2000); for shape < 1, Gamma(shape + 1) x U^(1 / shape).
double gamma_variate(std::mt19937_64& rng, double shape, double scale);

}  // namespace servesim

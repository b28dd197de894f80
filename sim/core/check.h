#pragma once
// Contract: invariant checks that stay on in every build. `assert` is compiled
// out of the Release build users run, so an invariant whose breach would give
// silently wrong results or touch memory out of bounds (a parameter a component
// never declared, an event scheduled in the past, a router naming a replica that
// does not exist) is a SERVESIM_CHECK: when it fails it throws std::logic_error
// "FILE:LINE: check failed: CONDITION (WHY)" (FILE relative to the source tree),
// which `main` reports as an internal error, exit 1. A breach is a bug in
// servesim, never a user mistake (those are ConfigError). `assert` stays only
// where a check would run per block or per element in a hot loop.

#include <string>

namespace servesim {

/// Throws std::logic_error naming `file`:`line`, the failed `condition` and `why`.
[[noreturn]] void check_failed(const char* file, int line, const char* condition, const std::string& why);

}  // namespace servesim

/// Always-on invariant: SERVESIM_CHECK(target < replicas, "router returned a replica that does not exist").
#define SERVESIM_CHECK(condition, why)                                              \
  do {                                                                              \
    if (!(condition)) [[unlikely]] {                                                \
      ::servesim::check_failed(__FILE__, __LINE__, #condition, why);                \
    }                                                                               \
  } while (false)

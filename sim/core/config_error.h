#pragma once
// Contract: the one exception type for user mistakes in input files (configs,
// catalogs, traces). It names where the mistake is (file plus JSON pointer, or
// file plus line) and what is allowed, so `main` can print it on one line and
// exit with status 2. Bugs in servesim itself are SERVESIM_CHECK failures (sim/core/check.h,
// always on) or asserts (hot paths), never ConfigError.

#include <stdexcept>
#include <string>

namespace servesim {

class ConfigError : public std::runtime_error {
 public:
  /// A mistake at a JSON pointer inside `file`: "FILE: /a/b: MESSAGE".
  static ConfigError at_pointer(const std::string& file, const std::string& pointer, const std::string& message);
  /// A mistake on a line of a text file (trace): "FILE:LINE: MESSAGE".
  static ConfigError at_line(const std::string& file, long line, const std::string& message);
  /// A mistake about a whole file or a command-line argument: "WHERE: MESSAGE".
  static ConfigError at(const std::string& where, const std::string& message);

 private:
  explicit ConfigError(const std::string& text) : std::runtime_error(text) {}
};

}  // namespace servesim

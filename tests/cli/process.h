#pragma once
// Runs the servesim binary from tests and captures what a user would see.

#include <string>

namespace servesim::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `SERVESIM_BINARY args` through /bin/sh (args are shell words) and
/// captures exit status, stdout and stderr.
ProcessResult run_servesim(const std::string& args);

/// A fresh empty directory under the system temp dir.
std::string make_temp_dir();

/// Whole file as a string ("" if missing).
std::string read_file(const std::string& path);

/// summary.json without its "wall_s" line (the one value that differs between reruns).
std::string without_wall_time(const std::string& summary);

/// summary.json without "wall_s" and "provenance" (build, command line, GPU calibrations): the
/// results, which the same config gives whatever path it was read from or command ran it.
std::string summary_results(const std::string& summary);

/// Writes `content` to `path`.
void write_file(const std::string& path, const std::string& content);

}  // namespace servesim::testing

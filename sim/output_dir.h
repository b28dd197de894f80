#pragma once
// Contract: where a command writes its results. The directory is created (with
// parents) and checked for writability up front, so a bad --out fails before any
// simulation work. Each file is written to a temporary name and renamed into
// place, so a reader never sees a half-written file and a failure leaves no
// partial file behind.

#include <string>

namespace servesim {

class OutputDir {
 public:
  /// Creates `path` if needed; throws ConfigError "output directory not writable" otherwise.
  explicit OutputDir(std::string path);
  const std::string& path() const { return path_; }
  /// Writes `content` to path/name atomically.
  void write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace servesim

#pragma once
// Contract: where a command writes its results. The directory is created (with
// parents) and checked for writability up front, so a bad --out fails before any
// simulation work. Each file is written to a temporary name and renamed into
// place, so a reader never sees a half-written file and a failure leaves no
// partial file behind. Large outputs are streamed through an OutputFile (memory
// stays bounded); it too appears under its name only once committed. A
// directory this object created and that is still empty when it goes away (the
// run failed) is removed again.

#include <cstdio>
#include <string>
#include <string_view>

namespace servesim {

/// A file written a piece at a time into a hidden partial file that becomes its
/// real name only on commit(); destroyed uncommitted, the partial file is removed.
class OutputFile {
 public:
  explicit OutputFile(std::string final_path);
  ~OutputFile();
  OutputFile(OutputFile&& other) noexcept;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  OutputFile& operator=(OutputFile&&) = delete;

  void append(std::string_view text);
  /// Flushes, closes and renames into place; throws ConfigError on I/O failure.
  void commit();

 private:
  std::string final_path_;
  std::string partial_path_;
  std::FILE* file_ = nullptr;
};

class OutputDir {
 public:
  /// Creates `path` if needed; throws ConfigError "output directory not writable" otherwise.
  explicit OutputDir(std::string path);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& path() const { return path_; }
  /// Writes `content` to path/name atomically.
  void write(const std::string& name, const std::string& content) const;
  /// A streamed file that appears as path/name on commit().
  OutputFile open(const std::string& name) const;

 private:
  std::string path_;
  bool created_ = false;
};

}  // namespace servesim

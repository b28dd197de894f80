#pragma once
// Contract: where a command writes its results. The directory is created (with
// parents) and checked for writability up front, so a bad --out fails before any
// simulation work. Every file is staged: written whole (write) or a piece at a
// time (open, for large outputs: memory stays bounded) to a hidden partial file
// beside its name. commit() closes them all, checking every write, and only
// then renames them into place one after another, so a failure (a full disk, a
// bad input found late, an exception) leaves no new file under any name, and the
// files of one run appear together. commit() also removes the files of an
// earlier run (`previous_names`) that this run did not write, so the directory
// never mixes two runs. Destroyed uncommitted, the object removes every partial
// file and, if it created the directory and it is empty, the directory. Partial
// files and a created directory are registered with sim/io/interrupt.h while they
// exist, so a signal removes them too.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  /// Flushes and closes the partial file; throws ConfigError on I/O failure (a full disk).
  void close();
  /// close(), then renames into place; throws ConfigError on I/O failure.
  void commit();
  const std::string& final_path() const { return final_path_; }

 private:
  [[noreturn]] void fail(int error) const;
  std::string final_path_;
  std::string partial_path_;
  std::FILE* file_ = nullptr;
  int cleanup_slot_ = -1;
};

class OutputDir {
 public:
  /// Creates `path` if needed; throws ConfigError "output directory not writable" otherwise.
  explicit OutputDir(std::string path);
  ~OutputDir();
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;

  const std::string& path() const { return path_; }
  /// Stages `content` as path/name (in place on commit()).
  void write(const std::string& name, const std::string& content);
  /// A streamed file staged as path/name; the reference lives as long as this object.
  OutputFile& open(const std::string& name);
  /// Throws ConfigError naming `input` if it is the file path/name of one of `names`
  /// (an input the run would overwrite, such as a config called summary.json in --out).
  void refuse_overwriting(const std::string& input, const std::vector<std::string>& names) const;
  /// Closes every staged file, then renames them all into place and removes each of
  /// `previous_names` that was not staged; throws ConfigError (nothing renamed) on I/O failure.
  void commit(const std::vector<std::string>& previous_names = {});

 private:
  std::string path_;
  bool created_ = false;
  int cleanup_slot_ = -1;
  std::vector<std::unique_ptr<OutputFile>> staged_;
};

/// Writes one output file given by the user (`calibrate --out FILE`): through a hidden
/// partial file renamed into place, or directly when `path` is a device or pipe
/// (/dev/stdout); every write checked. Throws ConfigError naming `path` on failure.
void write_output_file(const std::string& path, const std::string& content);

}  // namespace servesim

#include "sim/io/output_dir.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <unistd.h>

#include "sim/core/config_error.h"
#include "sim/io/interrupt.h"

namespace servesim {

OutputDir::OutputDir(std::string path) : path_(std::move(path)) {
  std::error_code error;
  created_ = std::filesystem::create_directories(path_, error);
  if (error || !std::filesystem::is_directory(path_)) {
    throw ConfigError::at(path_, "output directory not writable (cannot create it: " +
                                     (error ? error.message() : std::string("not a directory")) + ")");
  }
  if (created_) cleanup_slot_ = register_cleanup_directory(path_);
  if (::access(path_.c_str(), W_OK | X_OK) != 0) {
    const int access_error = errno;
    if (created_) std::filesystem::remove(path_, error);
    unregister_cleanup(cleanup_slot_);
    throw ConfigError::at(path_, std::string("output directory not writable (") + std::strerror(access_error) + ")");
  }
}

OutputDir::~OutputDir() {
  staged_.clear();  // uncommitted partial files go first
  std::error_code error;
  if (created_ && std::filesystem::is_empty(path_, error) && !error) std::filesystem::remove(path_, error);
  unregister_cleanup(cleanup_slot_);
}

OutputFile& OutputDir::open(const std::string& name) {
  staged_.push_back(std::make_unique<OutputFile>(path_ + "/" + name));
  return *staged_.back();
}

void OutputDir::write(const std::string& name, const std::string& content) {
  OutputFile& file = open(name);
  file.append(content);
  file.close();
}

void OutputDir::refuse_overwriting(const std::string& input, const std::vector<std::string>& names) const {
  for (const std::string& name : names) {
    std::error_code error;
    const std::string output = path_ + "/" + name;
    if (std::filesystem::equivalent(input, output, error) && !error) {
      throw ConfigError::at(input, "is the run's output " + output +
                                       " and would be overwritten; choose another --out or move the file");
    }
  }
}

void OutputDir::commit(const std::vector<std::string>& previous_names) {
  for (auto& file : staged_) file->close();
  for (auto& file : staged_) file->commit();
  for (const std::string& name : previous_names) {
    bool written = false;
    for (const auto& file : staged_) written = written || file->final_path() == path_ + "/" + name;
    if (!written) std::remove((path_ + "/" + name).c_str());
  }
  staged_.clear();
  created_ = false;  // committed: the directory is the run's result, even if empty
}

OutputFile::OutputFile(std::string final_path) : final_path_(std::move(final_path)) {
  const std::filesystem::path path(final_path_);
  std::string hidden = ".";  // (built stepwise: GCC 12 misreports "." + string as overlapping memcpy)
  hidden += path.filename().string();
  hidden += ".partial";
  partial_path_ = (path.parent_path() / hidden).string();
  file_ = std::fopen(partial_path_.c_str(), "wb");
  if (file_ == nullptr) {
    const int error = errno;
    partial_path_.clear();
    fail(error);
  }
  cleanup_slot_ = register_cleanup_file(partial_path_);
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : final_path_(std::move(other.final_path_)), partial_path_(std::move(other.partial_path_)), file_(other.file_),
      cleanup_slot_(other.cleanup_slot_) {
  other.file_ = nullptr;
  other.partial_path_.clear();
  other.cleanup_slot_ = -1;
}

OutputFile::~OutputFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!partial_path_.empty()) std::remove(partial_path_.c_str());
  unregister_cleanup(cleanup_slot_);
}

void OutputFile::fail(int error) const {
  throw ConfigError::at(final_path_, std::string("cannot write output file (") + std::strerror(error) + ")");
}

void OutputFile::append(std::string_view text) {
  if (file_ == nullptr) fail(EBADF);
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) fail(errno);
}

void OutputFile::close() {
  if (file_ == nullptr) return;
  std::FILE* file = file_;
  file_ = nullptr;
  const bool flushed = std::fflush(file) == 0;  // what a full disk refused shows here at the latest
  const int error = errno;
  const bool closed = std::fclose(file) == 0;
  if (!flushed) fail(error);
  if (!closed) fail(errno);
}

void OutputFile::commit() {
  close();
  if (partial_path_.empty()) return;  // committed already
  if (std::rename(partial_path_.c_str(), final_path_.c_str()) != 0) fail(errno);
  partial_path_.clear();
  unregister_cleanup(cleanup_slot_);
  cleanup_slot_ = -1;
}

void write_output_file(const std::string& path, const std::string& content) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::is_directory(status)) throw ConfigError::at(path, "is a directory; give a file name");
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    // A device or pipe (/dev/stdout): nothing to rename, but every write is still checked.
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr) {
      throw ConfigError::at(path, std::string("cannot write output file (") + std::strerror(errno) + ")");
    }
    const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size() && std::fflush(file) == 0;
    const int write_error = errno;
    const bool closed = std::fclose(file) == 0;
    if (!written || !closed) {
      throw ConfigError::at(path, std::string("cannot write output file (") +
                                      std::strerror(written ? errno : write_error) + ")");
    }
    return;
  }
  OutputFile file(path);
  file.append(content);
  file.commit();
}

}  // namespace servesim

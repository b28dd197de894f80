#include "sim/output_dir.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <unistd.h>

#include "sim/config_error.h"

namespace servesim {

OutputDir::OutputDir(std::string path) : path_(std::move(path)) {
  std::error_code error;
  created_ = std::filesystem::create_directories(path_, error);
  if (error || !std::filesystem::is_directory(path_)) {
    throw ConfigError::at(path_, "output directory not writable (cannot create it: " +
                                     (error ? error.message() : std::string("not a directory")) + ")");
  }
  if (::access(path_.c_str(), W_OK | X_OK) != 0) {
    throw ConfigError::at(path_, std::string("output directory not writable (") + std::strerror(errno) + ")");
  }
}

OutputDir::~OutputDir() {
  std::error_code error;
  if (created_ && std::filesystem::is_empty(path_, error) && !error) std::filesystem::remove(path_, error);
}

OutputFile OutputDir::open(const std::string& name) const { return OutputFile(path_ + "/" + name); }

OutputFile::OutputFile(std::string final_path) : final_path_(std::move(final_path)) {
  const std::filesystem::path path(final_path_);
  std::string hidden = ".";  // (built stepwise: GCC 12 misreports "." + string as overlapping memcpy)
  hidden += path.filename().string();
  hidden += ".partial";
  partial_path_ = (path.parent_path() / hidden).string();
  file_ = std::fopen(partial_path_.c_str(), "wb");
  if (file_ == nullptr) {
    throw ConfigError::at(final_path_, std::string("cannot write output file (") + std::strerror(errno) + ")");
  }
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : final_path_(std::move(other.final_path_)), partial_path_(std::move(other.partial_path_)), file_(other.file_) {
  other.file_ = nullptr;
  other.partial_path_.clear();
}

OutputFile::~OutputFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!partial_path_.empty()) std::remove(partial_path_.c_str());
}

void OutputFile::append(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    throw ConfigError::at(final_path_, std::string("cannot write output file (") + std::strerror(errno) + ")");
  }
}

void OutputFile::commit() {
  const bool ok = std::fflush(file_) == 0 && std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || std::rename(partial_path_.c_str(), final_path_.c_str()) != 0) {
    throw ConfigError::at(final_path_, std::string("cannot write output file (") + std::strerror(errno) + ")");
  }
  partial_path_.clear();
}

void OutputDir::write(const std::string& name, const std::string& content) const {
  const std::string final_path = path_ + "/" + name;
  const std::string temp_path = path_ + "/." + name + ".partial";
  {
    std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      std::remove(temp_path.c_str());
      throw ConfigError::at(final_path, "cannot write output file");
    }
  }
  if (std::rename(temp_path.c_str(), final_path.c_str()) != 0) {
    std::remove(temp_path.c_str());
    throw ConfigError::at(final_path, std::string("cannot write output file (") + std::strerror(errno) + ")");
  }
}

}  // namespace servesim

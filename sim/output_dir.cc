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
  std::filesystem::create_directories(path_, error);
  if (error || !std::filesystem::is_directory(path_)) {
    throw ConfigError::at(path_, "output directory not writable (cannot create it: " +
                                     (error ? error.message() : std::string("not a directory")) + ")");
  }
  if (::access(path_.c_str(), W_OK | X_OK) != 0) {
    throw ConfigError::at(path_, std::string("output directory not writable (") + std::strerror(errno) + ")");
  }
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

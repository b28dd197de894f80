#include "sim/config_error.h"

namespace servesim {

ConfigError ConfigError::at_pointer(const std::string& file, const std::string& pointer,
                                    const std::string& message) {
  return ConfigError(file + ": " + (pointer.empty() ? "/" : pointer) + ": " + message);
}

ConfigError ConfigError::at_line(const std::string& file, long line, const std::string& message) {
  return ConfigError(file + ":" + std::to_string(line) + ": " + message);
}

ConfigError ConfigError::at(const std::string& where, const std::string& message) {
  return ConfigError(where + ": " + message);
}

}  // namespace servesim

#include "sim/core/config_error.h"

namespace servesim {
namespace {

// Messages quote user input (trace headers, field values); control characters in it
// are shown escaped so the error stays one printable line.
std::string printable(const std::string& text) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

ConfigError ConfigError::at_pointer(const std::string& file, const std::string& pointer,
                                    const std::string& message) {
  return ConfigError(printable(file + ": " + (pointer.empty() ? "/" : pointer) + ": " + message));
}

ConfigError ConfigError::at_line(const std::string& file, long line, const std::string& message) {
  return ConfigError(printable(file + ":" + std::to_string(line) + ": " + message));
}

ConfigError ConfigError::at(const std::string& where, const std::string& message) {
  return ConfigError(printable(where + ": " + message));
}

}  // namespace servesim

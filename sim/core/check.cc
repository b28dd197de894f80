#include "sim/core/check.h"

#include <stdexcept>
#include <string_view>

namespace servesim {

void check_failed(const char* file, int line, const char* condition, const std::string& why) {
  std::string_view where(file);
#ifdef SERVESIM_SOURCE_DIR
  // __FILE__ is absolute under CMake; the path inside the source tree is what a reader looks up.
  const std::string_view root = SERVESIM_SOURCE_DIR "/";
  if (where.substr(0, root.size()) == root) where.remove_prefix(root.size());
#endif
  std::string text(where);
  text += ":" + std::to_string(line) + ": check failed: " + condition;
  if (!why.empty()) text += " (" + why + ")";
  throw std::logic_error(text);
}

}  // namespace servesim

#include "tools/command.h"

#include <cstdio>
#include <cstdlib>

namespace servesim {

std::map<std::string, CommandSpec>& command_index() {
  static std::map<std::string, CommandSpec> index;
  return index;
}

bool register_command(CommandSpec spec) {
  if (command_index().count(spec.name) != 0) {
    std::fprintf(stderr, "servesim: internal error: command '%s' is registered twice\n", spec.name.c_str());
    std::abort();
  }
  const std::string name = spec.name;
  command_index().emplace(name, std::move(spec));
  return true;
}

}  // namespace servesim

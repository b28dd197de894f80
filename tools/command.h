#pragma once
// Contract: a `servesim` sub-command registers itself with SERVESIM_COMMAND and
// gets its own arguments (after the command name). It returns the process exit
// status: 0 ok, 2 bad input (it may also throw ConfigError or
// boost::program_options::error, which main turns into 2), 1 internal error.
// Only commands that do real work are registered: placeholders are not listed.

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace servesim {

struct CommandSpec {
  std::string name;
  std::string summary;  // one line for `servesim --help`
  std::function<int(const std::vector<std::string>& args)> run;
};

std::map<std::string, CommandSpec>& command_index();
bool register_command(CommandSpec spec);

}  // namespace servesim

#define SERVESIM_COMMAND(name, summary, fn)                                                               \
  [[maybe_unused]] static const bool SERVESIM_CONCAT(servesim_command_, __LINE__) =                      \
      ::servesim::register_command({name, summary, fn})

#ifndef SERVESIM_CONCAT
#define SERVESIM_CONCAT_INNER(a, b) a##b
#define SERVESIM_CONCAT(a, b) SERVESIM_CONCAT_INNER(a, b)
#endif

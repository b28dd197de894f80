// `servesim list`: every pluggable interface, its implementations and their parameters.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>

#include "sim/core/registry.h"
#include "tools/command.h"
#include "tools/command_line.h"

namespace servesim {
namespace {

// Interfaces registered for their description but never looked up by a config: every run uses
// the one implementation, built inside the execution model from the catalogs, so no config key
// selects it or sets its parameters. Listed as built in, without parameters, so `list` does not
// advertise a choice that does not exist.
const std::map<std::string, std::string>& built_in_interfaces() {
  static const std::map<std::string, std::string> built_in{
      {"execution-model",
       "every iteration is timed by op-level from the hardware, model and engine catalogs and the GPU's calibration"},
      {"power-model", "the execution model computes energy with activity from the GPU's catalog entry and calibration"},
  };
  return built_in;
}

std::string default_text(const ParamSpec& param) {
  return param.default_text.empty() ? "(required)" : "default " + param.default_text;
}

int run_list(const std::vector<std::string>& args) {
  namespace po = boost::program_options;
  po::options_description options("options");
  std::string only;
  options.add_options()("interface", po::value<std::string>(&only), "show only this interface");
  po::positional_options_description positional;
  positional.add("interface", 1);
  po::variables_map vars;
  if (!parse_command_line("list", "[INTERFACE]",
                          "Lists every pluggable interface, each registered implementation with a one-line\n"
                          "description, and its parameters with type/unit and default. Select an\n"
                          "implementation in a config with {\"impl\": NAME, <parameters>}. Interfaces\n"
                          "marked \"built in\" have one implementation that every run uses; no config\n"
                          "key selects it or sets its parameters.",
                          options, positional, args, &vars)) {
    return 0;
  }
  if (!only.empty() && interface_index().count(only) == 0) {
    std::string names;
    for (const auto& [name, summary] : interface_index()) names += (names.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "servesim list: error: unknown interface '%s'; available: %s\n", only.c_str(),
                 names.c_str());
    return 2;
  }
  for (const auto& [interface, summary] : interface_index()) {
    if (!only.empty() && interface != only) continue;
    std::printf("%s — %s\n", interface.c_str(), summary.c_str());
    auto built_in = built_in_interfaces().find(interface);
    if (built_in != built_in_interfaces().end()) {
      std::printf("  (built in, not selectable: %s)\n", built_in->second.c_str());
      for (const auto& [key, info] : component_index()) {
        if (key.first == interface) std::printf("  %-16s %s\n", info.name.c_str(), info.description.c_str());
      }
      std::printf("\n");
      continue;
    }
    // Column widths per interface so long names and types stay aligned.
    int name_width = 0;
    int type_width = 0;
    int default_width = 0;
    for (const auto& [key, info] : component_index()) {
      if (key.first != interface) continue;
      for (const ParamSpec& param : info.params) {
        name_width = std::max(name_width, static_cast<int>(param.name.size()));
        type_width = std::max(type_width, static_cast<int>(param.type_text().size()));
        default_width = std::max(default_width, static_cast<int>(default_text(param).size()));
      }
    }
    for (const auto& [key, info] : component_index()) {
      if (key.first != interface) continue;
      std::printf("  %-16s %s\n", info.name.c_str(), info.description.c_str());
      for (const ParamSpec& param : info.params) {
        std::printf("      %-*s  %-*s  %-*s  %s\n", name_width, param.name.c_str(), type_width,
                    param.type_text().c_str(), default_width, default_text(param).c_str(),
                    param.description.c_str());
      }
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace

SERVESIM_COMMAND("list", "list pluggable components, their parameters, units and defaults", run_list);

}  // namespace servesim

// servesim: performance simulator for LLM inference serving.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <boost/program_options/errors.hpp>

#include "sim/core/config_error.h"
#include "sim/io/interrupt.h"
#include "tools/command.h"

namespace {

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: servesim <command> [options]\n"
               "       servesim --version | --help\n\n"
               "commands:\n");
  for (const auto& [name, spec] : servesim::command_index()) {
    std::fprintf(out, "  %-10s %s\n", name.c_str(), spec.summary.c_str());
  }
  std::fprintf(out, "\nRun 'servesim <command> --help' for a command's options. Exit status: 0 ok, 2 bad input, "
                    "1 internal error.\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_usage(stderr);
    return 2;
  }
  const std::string& first = args.front();
  if (first == "--help" || first == "-h" || first == "help") {
    print_usage(stdout);
    return 0;
  }
  if (first == "--version") {
    std::printf("servesim %s\n", SERVESIM_VERSION);
    return 0;
  }
  auto it = servesim::command_index().find(first);
  if (it == servesim::command_index().end()) {
    std::fprintf(stderr, "servesim: error: unknown command '%s' (see servesim --help)\n", first.c_str());
    return 2;
  }
  servesim::install_interrupt_handlers();  // a signal removes partial outputs and exits 128 + signal
  try {
    return it->second.run(std::vector<std::string>(args.begin() + 1, args.end()));
  } catch (const servesim::ConfigError& error) {
    std::fprintf(stderr, "servesim: error: %s\n", error.what());
    return 2;
  } catch (const boost::program_options::error& error) {
    std::fprintf(stderr, "servesim %s: error: %s (see servesim %s --help)\n", first.c_str(), error.what(),
                 first.c_str());
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "servesim: internal error: %s\n", error.what());
    return 1;
  }
}

#include "tools/command_line.h"

#include <iostream>

namespace servesim {

namespace po = boost::program_options;

bool parse_command_line(const std::string& command, const std::string& usage, const std::string& description,
                        po::options_description& options, const po::positional_options_description& positional,
                        const std::vector<std::string>& args, po::variables_map* vars) {
  options.add_options()("help,h", "show this help and exit");
  po::store(po::command_line_parser(args).options(options).positional(positional).run(), *vars);
  if (vars->count("help")) {
    std::cout << "usage: servesim " << command << " " << usage << "\n\n" << description << "\n\n" << options << "\n";
    return false;
  }
  po::notify(*vars);
  return true;
}

}  // namespace servesim

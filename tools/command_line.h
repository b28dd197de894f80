#pragma once
// Contract: the one way commands parse their options (Boost.Program_options):
// adds --help, prints "usage: servesim CMD USAGE" plus the options when asked,
// and throws boost::program_options::error on a bad option (main exits 2).

#include <string>
#include <vector>

#include <boost/program_options.hpp>

namespace servesim {

/// Returns false when --help was given and printed (the command then returns 0).
bool parse_command_line(const std::string& command, const std::string& usage, const std::string& description,
                        boost::program_options::options_description& options,
                        const boost::program_options::positional_options_description& positional,
                        const std::vector<std::string>& args, boost::program_options::variables_map* vars);

}  // namespace servesim

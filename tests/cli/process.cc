#include "tests/cli/process.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace servesim::testing {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string summary_results(const std::string& summary) {
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(summary);
  json.erase("wall_s");
  json.erase("provenance");
  return json.dump(2) + "\n";
}

std::string without_wall_time(const std::string& summary) {
  std::istringstream in(summary);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.find("\"wall_s\":") == std::string::npos) out += line + "\n";
  }
  return out;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string make_temp_dir() {
  char pattern[] = "/tmp/servesim-test-XXXXXX";
  const char* dir = ::mkdtemp(pattern);
  if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
  return dir;
}

ProcessResult run_servesim(const std::string& args) {
  const std::string dir = make_temp_dir();
  const std::string command = std::string(SERVESIM_BINARY) + " " + args + " >" + dir + "/out 2>" + dir + "/err";
  const int status = std::system(command.c_str());
  ProcessResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = read_file(dir + "/out");
  result.err = read_file(dir + "/err");
  std::system(("rm -rf " + dir).c_str());
  return result;
}

}  // namespace servesim::testing

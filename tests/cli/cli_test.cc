// Claims about the command line as a user sees it: exit codes and messages.
#include <gtest/gtest.h>

#include <sstream>

#include "tests/cli/process.h"

namespace servesim {
namespace {

using testing::run_servesim;

TEST(Cli, VersionPrintsTheVersionAndExitsZero) {
  auto result = run_servesim("--version");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, std::string("servesim ") + SERVESIM_VERSION + "\n");
}

TEST(Cli, HelpListsOnlyRealCommandsAndExitsZero) {
  auto result = run_servesim("--help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("  list "), std::string::npos);
}

TEST(Cli, NoArgumentsIsBadUsage) {
  auto result = run_servesim("");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("usage: servesim <command>"), std::string::npos);
}

TEST(Cli, UnknownCommandExitsTwoWithOneLine) {
  auto result = run_servesim("frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim: error: unknown command 'frobnicate' (see servesim --help)\n");
}

TEST(Cli, UnknownOptionExitsTwoWithOneLine) {
  auto result = run_servesim("list --bogus");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.err, "servesim list: error: unrecognised option '--bogus' (see servesim list --help)\n");
}

// The execution and power models are registered but no config looks them up: `list` shows them
// as built in, without parameters a config could not set. The collective model is selectable.
TEST(Cli, ListMarksTheModelsNoConfigSelectsAsBuiltIn) {
  for (const char* interface : {"execution-model", "power-model"}) {
    auto result = run_servesim(std::string("list ") + interface);
    EXPECT_EQ(result.exit_code, 0) << interface;
    EXPECT_NE(result.out.find("\n  (built in, not selectable: "), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("\n      "), std::string::npos) << "parameters listed: " << result.out;
  }
  auto collectives = run_servesim("list collective-model");
  EXPECT_EQ(collectives.out.find("built in"), std::string::npos) << collectives.out;
  EXPECT_NE(collectives.out.find("step_latency"), std::string::npos) << collectives.out;
  auto scheduler = run_servesim("list scheduler");
  EXPECT_EQ(scheduler.out.find("built in"), std::string::npos);
  EXPECT_NE(scheduler.out.find("max_num_seqs"), std::string::npos);
}

// Every other interface says where a config selects it ({"impl": NAME} or {"format": NAME}).
TEST(Cli, ListSaysHowEachSelectableInterfaceIsSelected) {
  std::istringstream lines(run_servesim("list").out);
  std::string line;
  std::string interface_line;
  int interfaces = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == ' ') {
      if (!interface_line.empty()) {
        EXPECT_TRUE(interface_line.find("NAME") != std::string::npos || line.rfind("  (built in", 0) == 0)
            << interface_line;
        interface_line.clear();
      }
      continue;
    }
    interface_line = line;
    ++interfaces;
  }
  EXPECT_GE(interfaces, 8);
}

TEST(Cli, EveryCommandHasHelp) {
  auto commands = run_servesim("--help").out;
  std::size_t at = commands.find("commands:\n");
  ASSERT_NE(at, std::string::npos);
  std::istringstream lines(commands.substr(at + 10));
  std::string line;
  int checked = 0;
  while (std::getline(lines, line) && line.rfind("  ", 0) == 0) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    auto help = run_servesim(name + " --help");
    EXPECT_EQ(help.exit_code, 0) << name;
    EXPECT_EQ(help.out.rfind("usage: servesim " + name, 0), 0u) << name << ": " << help.out;
    ++checked;
  }
  EXPECT_GE(checked, 1);
}

}  // namespace
}  // namespace servesim

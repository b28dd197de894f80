#include "sim/core/registry.h"

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "sim/core/config_error.h"
#include "sim/core/config_node.h"

namespace servesim {
namespace {

// A throwaway interface that exists only in this test binary.
struct Greeter {
  static constexpr const char* kInterfaceName = "test-greeter";
  static constexpr const char* kInterfaceSummary = "says hello (test only)";
  using Factory = std::function<std::unique_ptr<Greeter>(const ParamValues&)>;
  virtual ~Greeter() = default;
  virtual int64_t volume() const = 0;
};

struct LoudGreeter : Greeter {
  explicit LoudGreeter(int64_t v) : v_(v) {}
  int64_t volume() const override { return v_; }
  int64_t v_;
};

SERVESIM_REGISTER(Greeter, "loud", "greets loudly",
                  (ParamSpecs{ParamSpec::integer("volume", 11, 0, 100, "how loud")}),
                  [](const ParamValues& p) { return std::make_unique<LoudGreeter>(p.integer("volume")); });

TEST(Registry, RegisteredImplementationIsFoundAndListed) {
  const auto* entry = Registry<Greeter>::instance().find("loud");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->info.description, "greets loudly");
  EXPECT_EQ(entry->factory(default_params(entry->info.params))->volume(), 11);
  EXPECT_EQ(component_index().count({"test-greeter", "loud"}), 1u);
  EXPECT_EQ(interface_index().at("test-greeter"), "says hello (test only)");
}

TEST(Registry, ParamsAreValidatedAgainstTheirSpecs) {
  auto json = parse_json_text(R"({"volume": 101})", "g.json");
  ConfigNode node(json, "g.json");
  const auto* entry = Registry<Greeter>::instance().find("loud");
  try {
    read_params(node, entry->info.params);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(), "g.json: /volume: bad value 101: must be in [0, 100]");
  }
}

TEST(RegistryDeathTest, DuplicateNameAbortsAtStartUp) {
  EXPECT_DEATH(Registry<Greeter>::instance().add("loud", "again", {}, nullptr),
               "test-greeter 'loud' is registered twice");
}

}  // namespace
}  // namespace servesim

// Invariant checks that protect users stay on in the Release build (where assert is compiled out):
// a breach throws std::logic_error naming the file and line inside the source tree.
#include "sim/core/check.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "sim/core/engine.h"
#include "sim/core/params.h"

namespace servesim {
namespace {

// The message of the std::logic_error `fn` throws ("" when it throws none).
template <class Fn>
std::string logic_error_of(Fn fn) {
  try {
    fn();
  } catch (const std::logic_error& error) {
    return error.what();
  }
  return "";
}

TEST(AlwaysOnCheck, AFailedCheckThrowsWithFileLineConditionAndWhy) {
  const int line = __LINE__ + 1;
  const std::string what = logic_error_of([] { SERVESIM_CHECK(1 + 1 == 3, "arithmetic still works"); });
  EXPECT_EQ(what, "tests/sim/core/check_test.cc:" + std::to_string(line) +
                      ": check failed: 1 + 1 == 3 (arithmetic still works)");
}

TEST(AlwaysOnCheck, APassingCheckDoesNotEvaluateItsMessage) {
  int built = 0;
  auto why = [&] {
    ++built;
    return std::string("never");
  };
  SERVESIM_CHECK(true, why());
  EXPECT_EQ(built, 0);
}

// The parameter-name guard: a component asking for a parameter its ParamSpecs never declared would
// read past the map's end in Release; it is a check naming sim/core/params.cc and the parameter.
TEST(AlwaysOnCheck, AnUndeclaredParameterNameIsCaughtInEveryBuild) {
  const ParamValues values = default_params({ParamSpec::integer("max_num_seqs", 256, 1, 1 << 20, "seqs")});
  EXPECT_EQ(values.integer("max_num_seqs"), 256);
  const std::string what = logic_error_of([&] { (void)values.integer("max_num_seq"); });
  EXPECT_NE(what.find("sim/core/params.cc:"), std::string::npos) << what;
  EXPECT_NE(what.find("parameter 'max_num_seq' not declared in the component's ParamSpecs"), std::string::npos)
      << what;
}

PlatformSpec two_hosts() {
  PlatformSpec spec;
  spec.endpoints = {"a", "b"};
  spec.links = {{"wire", 10e9, 2e-6}};
  spec.routes = {{"a", "b", {"wire"}, true}};
  return spec;
}

// An event before the current time would run out of order and move the clock backwards.
TEST(AlwaysOnCheck, AnEventInThePastIsCaughtInEveryBuild) {
  Engine engine(two_hosts());
  const std::string what = logic_error_of([&] { engine.schedule_at(-1.0, 0, [] {}); });
  EXPECT_NE(what.find("sim/core/engine.cc:"), std::string::npos) << what;
  EXPECT_NE(what.find("events cannot be scheduled in the past"), std::string::npos) << what;
}

TEST(AlwaysOnCheck, ANanTransferIsCaughtInEveryBuild) {
  Engine engine(two_hosts());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::string what = logic_error_of([&] { engine.transfer(engine.endpoint("a"), engine.endpoint("b"), nan, [] {}); });
  EXPECT_NE(what.find("a transfer of a negative or NaN byte count"), std::string::npos) << what;
}

}  // namespace
}  // namespace servesim

// Claims about config validation: each bad-input kind gets one exact message.
#include "sim/core/config_node.h"

#include <gtest/gtest.h>

#include "sim/core/config_error.h"

namespace servesim {
namespace {

ConfigNode node_of(const std::string& text) { return ConfigNode(parse_json_text(text, "cfg.json"), "cfg.json"); }

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(ConfigNode, MalformedJsonNamesLineAndColumn) {
  EXPECT_EQ(error_of([] { parse_json_text("{\n  \"a\": 1,\n}", "cfg.json"); }),
            "cfg.json: malformed JSON: line 3, column 1: syntax error while parsing object key - unexpected '}'; "
            "expected string literal");
}

TEST(ConfigNode, UnknownKeyNamesPointerAndAllowedKeys) {
  EXPECT_EQ(error_of([] {
              ConfigNode root = node_of(R"({"cache": {"block_tokens": 16, "blok": 1}})");
              ConfigNode cache = root.child("cache");
              cache.integer("block_tokens", 1, 1024, 16);
              cache.boolean("prefix_caching", false);
              cache.finish();
            }),
            "cfg.json: /cache/blok: unknown key 'blok'; allowed: block_tokens, prefix_caching");
}

// A reader asking for an element of what is not an array (or past its end) gets a ConfigError at
// that node, not the JSON library's type_error (which escaped as an internal error: found by
// fuzz_calibration, "segs": 7.0 in a whole-model table).
TEST(ConfigNode, ElementOfANonArrayOrPastTheEndNamesItsPointer) {
  EXPECT_EQ(error_of([] { node_of(R"({"segs": 7.0})").child("segs").element(0); }),
            "cfg.json: /segs: expected an array, got number");
  EXPECT_EQ(error_of([] { node_of(R"({"segs": [1]})").child("segs").element(1); }),
            "cfg.json: /segs: expected at least 2 elements, got 1");
}

TEST(ConfigNode, MissingRequiredKey) {
  EXPECT_EQ(error_of([] { node_of(R"({"plan": {}})").child("plan").integer("tp", 1, 64); }),
            "cfg.json: /plan: missing required key 'tp'");
}

TEST(ConfigNode, WrongType) {
  EXPECT_EQ(error_of([] { node_of(R"({"tp": "two"})").integer("tp", 1, 64); }),
            "cfg.json: /tp: expected an integer, got \"two\"");
}

TEST(ConfigNode, UnitWithWrongDimension) {
  EXPECT_EQ(error_of([] { node_of(R"({"bw": "5 W"})").quantity("bw", Dimension::kBytesPerSecond); }),
            "cfg.json: /bw: bad value \"5 W\": unit 'W' has the wrong dimension; expected a bandwidth, e.g. "
            "\"64 GB/s\"");
}

TEST(ConfigNode, UnitThatDoesNotParse) {
  EXPECT_EQ(error_of([] { node_of(R"({"lat": "fast"})").quantity("lat", Dimension::kSeconds); }),
            "cfg.json: /lat: bad value \"fast\": expected a number followed by a unit; expected a duration, e.g. "
            "\"1.5 us\"");
}

TEST(ConfigNode, ZeroOrNegativeSizeIsRejected) {
  EXPECT_EQ(error_of([] { node_of(R"({"hbm": "0 GiB"})").quantity("hbm", Dimension::kBytes); }),
            "cfg.json: /hbm: bad value \"0 GiB\": must be positive");
  EXPECT_EQ(error_of([] { node_of(R"({"bw": "-3 GB/s"})").quantity("bw", Dimension::kBytesPerSecond); }),
            "cfg.json: /bw: bad value \"-3 GB/s\": must be positive");
}

TEST(ConfigNode, IntegerOutOfRange) {
  EXPECT_EQ(error_of([] { node_of(R"({"tp": 0})").integer("tp", 1, 64); }),
            "cfg.json: /tp: bad value 0: must be in [1, 64]");
}

// 18446744073709551615 read as int64 is -1, which a range allowing negatives would accept.
TEST(ConfigNode, IntegerBeyondInt64IsOutOfRangeNotWrapped) {
  EXPECT_EQ(error_of([] { node_of(R"({"seed": 18446744073709551615})").integer("seed", -10, 10); }),
            "cfg.json: /seed: bad value 18446744073709551615: must be in [-10, 10]");
}

TEST(ConfigNode, ChoiceListsAllowedValues) {
  EXPECT_EQ(error_of([] { node_of(R"({"p": "drop"})").choice("p", {"recompute", "swap"}); }),
            "cfg.json: /p: bad value \"drop\"; allowed: recompute, swap");
}

TEST(ConfigNode, MissingFileIsReported) {
  EXPECT_EQ(error_of([] { load_json_file("/nonexistent/x.json"); }),
            "/nonexistent/x.json: cannot open file (does it exist and is it readable?)");
}

TEST(ConfigNode, PointerEscapesSlashAndTilde) {
  EXPECT_EQ(error_of([] { node_of(R"({"a/b": {"c~d": "x"}})").child("a/b").integer("c~d", 0, 1); }),
            "cfg.json: /a~1b/c~0d: expected an integer, got \"x\"");
}

// System: a config nested 100,000 arrays deep (recursive copy or dump of it would overflow the stack).
// Expectation: the parser stops at level 65 and names where, within the 64 levels allowed.
TEST(ConfigNode, JsonNestedDeeperThanTheLimitIsRejectedWithItsPointer) {
  const std::string deep = "{\"a\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string pointer = "/a";
  for (int i = 1; i < kMaxJsonDepth; ++i) pointer += "/0";
  EXPECT_EQ(error_of([&] { parse_json_text(deep, "cfg.json"); }),
            "cfg.json: " + pointer + ": arrays and objects nested deeper than 64 levels");
}

TEST(ConfigNode, JsonNestedExactlyToTheLimitIsAccepted) {
  const std::string text = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_EQ(error_of([&] { parse_json_text(text, "cfg.json"); }), "<no error>");
}

TEST(ConfigNode, DuplicateKeyIsRejectedWithItsPointer) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"plan": {"tp": 1, "pp": 1, "tp": 2}})", "cfg.json"); }),
            "cfg.json: /plan/tp: duplicate key 'tp' (each key may appear once in an object)");
  // The same key in different objects is no duplicate.
  EXPECT_EQ(error_of([] { parse_json_text(R"({"a": {"x": 1}, "b": [{"x": 1}, {"x": 2}]})", "cfg.json"); }),
            "<no error>");
}

TEST(ConfigNode, DuplicateKeyInsideAnArrayNamesTheElement) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"b": [{"x": 1}, [3, 4], {"y": 1, "y": 2}]})", "cfg.json"); }),
            "cfg.json: /b/2/y: duplicate key 'y' (each key may appear once in an object)");
}

TEST(ConfigNode, NumberBeyondTheRangeOfADoubleIsRejectedWithItsPointer) {
  EXPECT_EQ(error_of([] { parse_json_text(R"({"slo": {"x": [1, -1e400]}})", "cfg.json"); }),
            "cfg.json: /slo/x/1: number overflow parsing '-1e400' (beyond the range of a double)");
  EXPECT_EQ(error_of([] { parse_json_text("1e400", "cfg.json"); }),
            "cfg.json: /: number overflow parsing '1e400' (beyond the range of a double)");
}

TEST(ConfigNode, Utf8ByteOrderMarkOpeningAFileIsSkipped) {
  EXPECT_EQ(node_of("\xEF\xBB\xBF{\"tp\": 2}").integer("tp", 1, 64), 2);
}

TEST(ConfigNode, OrderedParseKeepsFileOrderAndAppliesTheSameChecks) {
  JsonProblem problem;
  const auto ordered = parse_ordered_json_strict(R"({"b": 1, "a": 2})", &problem);
  ASSERT_TRUE(ordered);
  EXPECT_EQ(ordered->begin().key(), "b");
  EXPECT_FALSE(parse_ordered_json_strict(R"({"a": 1, "a": 2})", &problem));
  EXPECT_EQ(problem.pointer.value_or("?"), "/a");
}

TEST(ConfigNode, DirectoryGivenAsConfigIsNamedAsSuch) {
  EXPECT_EQ(error_of([] { load_json_file("/tmp"); }), "/tmp: is a directory, not a JSON file");
}

TEST(ConfigNode, DeviceGivenAsConfigIsRefusedWithoutReadingIt) {
  EXPECT_EQ(error_of([] { load_json_file("/dev/zero"); }), "/dev/zero: is a device or socket, not a JSON file");
}

// Input quoted in a message (a trace header with a stray carriage return, say) cannot
// break the one-line error: control characters are shown escaped.
TEST(ConfigError, ControlCharactersInQuotedInputAreEscaped) {
  const ConfigError error = ConfigError::at_line("t.csv", 1, "missing column 'a' (header has: a\rb, c\td, \x01)");
  EXPECT_STREQ(error.what(), "t.csv:1: missing column 'a' (header has: a\\rb, c\\td, \\x01)");
}

}  // namespace
}  // namespace servesim

// Claims about config validation: each bad-input kind gets one exact message.
#include "sim/config_node.h"

#include <gtest/gtest.h>

#include "sim/config_error.h"

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

// Input quoted in a message (a trace header with a stray carriage return, say) cannot
// break the one-line error: control characters are shown escaped.
TEST(ConfigError, ControlCharactersInQuotedInputAreEscaped) {
  const ConfigError error = ConfigError::at_line("t.csv", 1, "missing column 'a' (header has: a\rb, c\td, \x01)");
  EXPECT_STREQ(error.what(), "t.csv:1: missing column 'a' (header has: a\\rb, c\\td, \\x01)");
}

}  // namespace
}  // namespace servesim

// Fuzz target: the strict JSON reader and ConfigNode (sim/core/config_node), which every config,
// catalog and sweep file goes through, and read_params (sim/core/params). Each input is parsed as
// text and as a file; a document that parses is walked with every typed accessor on every member.
// Only ConfigError may come out. Invariants: the ordered and unordered parsers agree; a document
// that parsed dumps and copies without trouble; an object whose every key was asked for passes
// finish(), and a non-empty one nobody asked about fails it.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim/core/config_error.h"
#include "sim/core/config_node.h"
#include "sim/core/params.h"
#include "sim/core/units.h"
#include "tests/fuzz/fuzz_support.h"

namespace servesim {
namespace {

using fuzz::fuzz_require;

constexpr Dimension kDimensions[] = {Dimension::kBytes,   Dimension::kBytesPerSecond, Dimension::kSeconds,
                                     Dimension::kWatts,   Dimension::kJoules,         Dimension::kFlopsPerSecond,
                                     Dimension::kHertz};

template <class Fn>
void tolerate_config_error(Fn fn) {
  try {
    fn();
  } catch (const ConfigError&) {
  }
}

void exercise_value(const ConfigNode& node, int depth);

// Every accessor on member `key` of `node` (each may refuse with ConfigError), then the member itself.
void exercise_member(ConfigNode& node, const std::string& key, int depth) {
  tolerate_config_error([&] { (void)node.has(key); });
  for (Dimension dimension : kDimensions) {
    tolerate_config_error([&] { (void)node.quantity(key, dimension); });
    tolerate_config_error([&] { (void)node.quantity(key, dimension, 1.0, true); });
  }
  tolerate_config_error([&] { (void)node.integer(key, 0, 1 << 30); });
  tolerate_config_error([&] {
    (void)node.integer(key, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
  });
  tolerate_config_error([&] { (void)node.number(key, -1e300, 1e300); });
  tolerate_config_error([&] { (void)node.string(key); });
  tolerate_config_error([&] { (void)node.choice(key, {"vllm", "paged", "recompute"}); });
  tolerate_config_error([&] { (void)node.boolean(key, false); });
  tolerate_config_error([&] {
    for (ConfigNode& element : node.array(key)) exercise_value(element, depth + 1);
  });
  tolerate_config_error([&] { exercise_value(node.child(key), depth + 1); });
}

void exercise_value(const ConfigNode& const_node, int depth) {
  fuzz_require(depth <= kMaxJsonDepth + 1, "walked deeper than the parser allows");
  ConfigNode node = const_node;
  (void)describe_json_value(node.value());
  for (Dimension dimension : kDimensions) {
    tolerate_config_error([&] { (void)node.as_quantity(dimension, true); });
  }
  tolerate_config_error([&] { (void)node.as_integer(-(int64_t{1} << 40), int64_t{1} << 40); });
  tolerate_config_error([&] { (void)node.as_number(-1e300, 1e300); });
  tolerate_config_error([&] { (void)node.as_string(); });
  if (node.is_string()) {
    for (Dimension dimension : kDimensions) {
      try {
        (void)parse_quantity(node.value().get<std::string>(), dimension);
      } catch (const std::invalid_argument&) {  // parse_quantity's way of refusing
      }
    }
  }
  if (node.is_array()) {
    for (std::size_t i = 0; i < node.size() && i < 64; ++i) exercise_value(node.element(i), depth + 1);
    return;
  }
  if (!node.is_object()) return;
  std::vector<std::string> keys;
  for (const auto& item : node.value().items()) keys.push_back(item.key());
  if (!keys.empty()) {
    bool refused = false;
    try {
      ConfigNode(node).finish();
    } catch (const ConfigError&) {
      refused = true;
    }
    fuzz_require(refused, "finish() accepted keys nobody asked for");
  }
  for (const std::string& key : keys) {
    (void)escape_pointer_token(key);
    exercise_member(node, key, depth);
  }
  node.finish();  // every key was asked for: must not throw
}

// A scheduler-like component's parameters: one of each kind.
const ParamSpecs& fuzz_specs() {
  static const ParamSpecs specs{
      ParamSpec::integer("max_num_seqs", 256, 1, 1 << 20, "sequences"),
      ParamSpec::number("cv", 1.0, 1e-3, 100.0, "burstiness"),
      ParamSpec::quantity("latency", Dimension::kSeconds, "2 us", "latency", true),
      ParamSpec::quantity("bandwidth", Dimension::kBytesPerSecond, "64 GB/s", "bandwidth"),
      ParamSpec::choice("preemption", "recompute", {"recompute", "swap"}, "preemption"),
  };
  return specs;
}

}  // namespace
}  // namespace servesim

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace servesim;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  JsonProblem problem;
  auto doc = parse_json_strict(text, &problem);
  JsonProblem ordered_problem;
  auto ordered = parse_ordered_json_strict(text, &ordered_problem);
  fuzz::fuzz_require(doc.has_value() == ordered.has_value(), "ordered and unordered parsers disagree");
  if (!doc) {
    try {
      throw_json_problem("fuzz.json", problem);
    } catch (const ConfigError&) {
    }
  } else {
    (void)doc->dump();
    (void)ordered->dump();
    auto root = std::make_shared<const nlohmann::json>(*doc);
    try {
      exercise_value(ConfigNode(root, "fuzz.json"), 0);
    } catch (const ConfigError&) {
    }
    if (root->is_object()) {
      try {
        ConfigNode node(root, "fuzz.json");
        (void)read_params(node, fuzz_specs());
      } catch (const ConfigError&) {
      }
    }
  }
  // The same text as a file: what load_json_file does around the parser (byte order mark, size).
  static fuzz::ScratchFile scratch(".json");
  try {
    (void)load_json_file(scratch.write(data, size));
  } catch (const ConfigError&) {
  }
  return 0;
}

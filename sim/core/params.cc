#include "sim/core/params.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/check.h"
#include "sim/core/config_node.h"

namespace servesim {

ParamSpec ParamSpec::integer(std::string name, int64_t default_value, int64_t min, int64_t max,
                             std::string description) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kInteger;
  spec.default_text = std::to_string(default_value);
  spec.min = static_cast<double>(min);
  spec.max = static_cast<double>(max);
  spec.description = std::move(description);
  return spec;
}

ParamSpec ParamSpec::number(std::string name, double default_value, double min, double max,
                            std::string description) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kNumber;
  std::ostringstream text;
  text << default_value;
  spec.default_text = text.str();
  spec.min = min;
  spec.max = max;
  spec.description = std::move(description);
  return spec;
}

ParamSpec ParamSpec::quantity(std::string name, Dimension dimension, std::string default_text,
                              std::string description, bool allow_zero) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kQuantity;
  spec.dimension = dimension;
  spec.default_text = default_text.empty() ? "" : "\"" + default_text + "\"";
  spec.description = std::move(description);
  spec.allow_zero = allow_zero;
  return spec;
}

ParamSpec ParamSpec::choice(std::string name, std::string default_value, std::vector<std::string> choices,
                            std::string description) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kString;
  spec.default_text = "\"" + default_value + "\"";
  spec.choices = std::move(choices);
  spec.description = std::move(description);
  return spec;
}

ParamSpec ParamSpec::boolean(std::string name, bool default_value, std::string description) {
  ParamSpec spec;
  spec.name = std::move(name);
  spec.type = ParamType::kBoolean;
  spec.default_text = default_value ? "true" : "false";
  spec.description = std::move(description);
  return spec;
}

std::string ParamSpec::type_text() const {
  switch (type) {
    case ParamType::kInteger: return "integer";
    case ParamType::kNumber: return "number";
    case ParamType::kQuantity: {
      switch (dimension) {
        case Dimension::kBytes: return "size (B, GiB, ...)";
        case Dimension::kBytesPerSecond: return "bandwidth (GB/s, ...)";
        case Dimension::kSeconds: return "duration (s, ms, us)";
        case Dimension::kWatts: return "power (W)";
        case Dimension::kJoules: return "energy (J)";
        case Dimension::kFlopsPerSecond: return "rate (TFLOP/s)";
        case Dimension::kHertz: return "frequency (Hz)";
      }
      return "quantity";
    }
    case ParamType::kString: {
      if (choices.empty()) return "string";
      std::string out = "one of ";
      for (std::size_t i = 0; i < choices.size(); ++i) out += (i ? "|" : "") + choices[i];
      return out;
    }
    case ParamType::kBoolean: return "boolean";
  }
  return "value";
}

const ParamValues::Value& ParamValues::get(const std::string& name) const {
  auto it = values_.find(name);
  SERVESIM_CHECK(it != values_.end(), "parameter '" + name + "' not declared in the component's ParamSpecs");
  return it->second;
}

int64_t ParamValues::integer(const std::string& name) const { return std::get<int64_t>(get(name)); }

double ParamValues::number(const std::string& name) const {
  const Value& value = get(name);
  if (const auto* as_int = std::get_if<int64_t>(&value)) return static_cast<double>(*as_int);
  return std::get<double>(value);
}

const std::string& ParamValues::string(const std::string& name) const { return std::get<std::string>(get(name)); }

bool ParamValues::boolean(const std::string& name) const { return std::get<bool>(get(name)); }

namespace {

ParamValues::Value read_one(ConfigNode& node, const ParamSpec& spec, bool use_default) {
  // Defaults are parsed with the same rules as user input so they can never drift.
  std::shared_ptr<const nlohmann::json> default_json;
  if (use_default) {
    SERVESIM_CHECK(!spec.default_text.empty(), "required parameter '" + spec.name + "' has no default");
    nlohmann::json holder = nlohmann::json::object();
    holder[spec.name] = nlohmann::json::parse(spec.default_text);
    default_json = std::make_shared<const nlohmann::json>(std::move(holder));
  }
  ConfigNode holder_node = use_default ? ConfigNode(default_json, "<default>") : node;
  switch (spec.type) {
    case ParamType::kInteger:
      return holder_node.integer(spec.name, static_cast<int64_t>(spec.min), static_cast<int64_t>(spec.max));
    case ParamType::kNumber: return holder_node.number(spec.name, spec.min, spec.max);
    case ParamType::kQuantity:
      return holder_node.child(spec.name).as_quantity(spec.dimension, spec.allow_zero);
    case ParamType::kString:
      return spec.choices.empty() ? holder_node.string(spec.name) : holder_node.choice(spec.name, spec.choices);
    case ParamType::kBoolean: {
      ConfigNode child = holder_node.child(spec.name);
      if (!child.value().is_boolean()) child.fail("expected true or false, got " + describe_json_value(child.value()));
      return child.value().get<bool>();
    }
  }
  return int64_t{0};
}

}  // namespace

ParamValues read_params(ConfigNode& node, const ParamSpecs& specs) {
  ParamValues values;
  for (const ParamSpec& spec : specs) {
    const bool present = node.has(spec.name);
    if (!present && spec.default_text.empty()) node.fail("missing required key '" + spec.name + "'");
    values.set(spec.name, read_one(node, spec, !present));
  }
  return values;
}

ParamValues default_params(const ParamSpecs& specs) {
  ParamValues values;
  auto empty = std::make_shared<const nlohmann::json>(nlohmann::json::object());
  ConfigNode node(empty, "<default>");
  for (const ParamSpec& spec : specs) {
    if (!spec.default_text.empty()) values.set(spec.name, read_one(node, spec, true));
  }
  return values;
}

}  // namespace servesim

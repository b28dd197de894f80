#pragma once
// Contract: the documented parameters of a pluggable component. A ParamSpec says
// name, type, unit, default and meaning (printed by `servesim list`);
// read_params() validates a JSON object against the specs and yields
// ParamValues, a typed map the component's factory turns into its own Params
// struct. Components never see JSON.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sim/core/units.h"

namespace servesim {

class ConfigNode;

enum class ParamType { kInteger, kNumber, kQuantity, kString, kBoolean };

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kInteger;
  std::string description;
  /// Text of the default as a user would write it ("8192", "\"500 ms\""); empty = required.
  std::string default_text;
  Dimension dimension = Dimension::kSeconds;  // kQuantity only
  double min = 0.0;                           // kInteger / kNumber
  double max = 1e18;                          // kInteger / kNumber
  std::vector<std::string> choices;           // kString: allowed values (empty = any)
  bool allow_zero = false;                    // kQuantity

  static ParamSpec integer(std::string name, int64_t default_value, int64_t min, int64_t max,
                           std::string description);
  static ParamSpec number(std::string name, double default_value, double min, double max, std::string description);
  static ParamSpec quantity(std::string name, Dimension dimension, std::string default_text,
                            std::string description, bool allow_zero = false);
  static ParamSpec choice(std::string name, std::string default_value, std::vector<std::string> choices,
                          std::string description);
  static ParamSpec boolean(std::string name, bool default_value, std::string description);

  /// "integer", "number", "duration", ... with unit hint, for `servesim list`.
  std::string type_text() const;
};

using ParamSpecs = std::vector<ParamSpec>;

class ParamValues {
 public:
  using Value = std::variant<int64_t, double, std::string, bool>;

  void set(const std::string& name, Value value) { values_[name] = std::move(value); }
  int64_t integer(const std::string& name) const;
  /// A kNumber or kQuantity parameter in SI units.
  double number(const std::string& name) const;
  const std::string& string(const std::string& name) const;
  bool boolean(const std::string& name) const;

 private:
  const Value& get(const std::string& name) const;
  std::map<std::string, Value> values_;
};

/// Reads every spec from `node` (applying defaults), leaving other keys for the
/// caller; the caller calls node.finish() once it has read its own keys.
ParamValues read_params(ConfigNode& node, const ParamSpecs& specs);

/// Defaults only, as if the object were empty.
ParamValues default_params(const ParamSpecs& specs);

}  // namespace servesim

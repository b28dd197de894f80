#pragma once
// Contract: a read-only view of one JSON object (or value) inside a loaded file,
// carrying the file name and the JSON pointer so every error names its place.
// Typed accessors validate as they read: type, range, unit dimension, allowed
// choices. Each key asked for (present or not) is remembered; finish() then
// rejects any key in the object that nobody asked for, listing the allowed ones.
// This is the only place JSON is interpreted; models get typed structs.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/units.h"

namespace servesim {

/// Deepest nesting of arrays and objects any JSON input may have (configs, catalogs, sweeps, JSONL
/// records): deeper documents are rejected as they are parsed, so nothing later (copy, dump, compare,
/// destroy) recurses without bound.
constexpr int kMaxJsonDepth = 64;

/// Largest JSON file load_json_file reads (a device or endless pipe is cut off here).
constexpr std::size_t kMaxJsonFileBytes = std::size_t{256} << 20;

/// Why JSON text was refused: where (a JSON pointer, when known) and what is wrong.
struct JsonProblem {
  std::optional<std::string> pointer;  // unset for syntax errors: `message` then names line and column
  std::string message;
};

/// Parses `text` strictly: valid syntax, arrays and objects nested at most kMaxJsonDepth deep, no
/// key twice in one object, every number within a double's range. Returns nullopt and fills
/// `problem` otherwise.
std::optional<nlohmann::json> parse_json_strict(std::string_view text, JsonProblem* problem);
/// The same, keeping object keys in file order.
std::optional<nlohmann::ordered_json> parse_ordered_json_strict(std::string_view text, JsonProblem* problem);

/// The text of a JSON input file; throws ConfigError when it cannot be read, is a directory or
/// device, or is larger than kMaxJsonFileBytes.
std::string read_json_file_text(const std::string& path);

/// Parses a JSON file strictly (parse_json_strict); a problem or a missing file throws ConfigError
/// naming the file and the line and column or the JSON pointer.
std::shared_ptr<const nlohmann::json> load_json_file(const std::string& path);

/// Parses JSON text named `name` for messages (used for embedded defaults and tests).
std::shared_ptr<const nlohmann::json> parse_json_text(const std::string& text, const std::string& name);

/// Throws the ConfigError for `problem` in the file `name`.
[[noreturn]] void throw_json_problem(const std::string& name, const JsonProblem& problem);

class ConfigNode {
 public:
  ConfigNode(std::shared_ptr<const nlohmann::json> root, std::string file);

  const std::string& file() const { return file_; }
  const std::string& pointer() const { return pointer_; }
  const nlohmann::json& value() const { return *value_; }
  bool is_object() const { return value_->is_object(); }
  bool is_string() const { return value_->is_string(); }
  bool is_array() const { return value_->is_array(); }

  /// True if the object has `key` (and remembers the key as allowed).
  bool has(const std::string& key);
  /// The object member `key`; throws if missing.
  ConfigNode child(const std::string& key);
  /// Element `index` of an array node.
  ConfigNode element(std::size_t index) const;
  /// Elements of the array member `key` (required).
  std::vector<ConfigNode> array(const std::string& key);
  /// Number of elements of an array node.
  std::size_t size() const { return value_->size(); }

  /// A physical quantity given as a unit string ("80 GiB"); must be > 0 unless allow_zero.
  double quantity(const std::string& key, Dimension dimension);
  double quantity(const std::string& key, Dimension dimension, double default_value, bool allow_zero = false);
  /// An integer in [min, max].
  int64_t integer(const std::string& key, int64_t min, int64_t max);
  int64_t integer(const std::string& key, int64_t min, int64_t max, int64_t default_value);
  /// A plain number in [min, max].
  double number(const std::string& key, double min, double max);
  double number(const std::string& key, double min, double max, double default_value);
  std::string string(const std::string& key);
  std::string string(const std::string& key, const std::string& default_value);
  /// A string that must be one of `allowed`.
  std::string choice(const std::string& key, const std::vector<std::string>& allowed);
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     const std::string& default_value);
  bool boolean(const std::string& key, bool default_value);

  /// The same checks applied to this node itself (an array element, say).
  double as_quantity(Dimension dimension, bool allow_zero = false) const;
  int64_t as_integer(int64_t min, int64_t max) const;
  double as_number(double min, double max) const;
  std::string as_string() const;

  /// Throws if this node is not an object.
  void require_object() const;
  /// Rejects keys nobody asked for, naming them and the allowed keys.
  void finish() const;
  /// Throws a ConfigError at this node (or at its member `key`).
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

 private:
  ConfigNode(std::shared_ptr<const nlohmann::json> root, std::string file, const nlohmann::json* value,
             std::string pointer);
  const nlohmann::json& member(const std::string& key);
  std::string member_pointer(const std::string& key) const;
  ConfigNode member_node(const std::string& key);

  std::shared_ptr<const nlohmann::json> root_;
  std::string file_;
  const nlohmann::json* value_;
  std::string pointer_;
  std::set<std::string> asked_;
};

/// JSON pointer escaping of one reference token ("a/b" -> "a~1b").
std::string escape_pointer_token(const std::string& token);

/// The value as it appeared in the input, for messages ("\"5 W\"", "-3").
std::string describe_json_value(const nlohmann::json& value);

}  // namespace servesim

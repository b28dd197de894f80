#include "sim/core/config_node.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "sim/core/config_error.h"

namespace servesim {
namespace {

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::string type_name(const nlohmann::json& value) { return value.type_name(); }

// nlohmann reports "parse error at line L, column C: syntax error while parsing ...";
// keep line/column and the reason, drop the library's exception id.
std::string parse_error_text(const nlohmann::json::parse_error& error) {
  std::string text = error.what();
  const std::string marker = "parse error";
  const auto at = text.find(marker);
  if (at != std::string::npos) text = text.substr(at + marker.size());
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  if (text.rfind("at ", 0) == 0) text.erase(0, 3);
  return "malformed JSON: " + text;
}

}  // namespace

std::string escape_pointer_token(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe_json_value(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

namespace {

// Thrown from the parser callback when a limit is crossed; parse_strict turns it into a JsonProblem.
struct JsonLimit {
  std::string pointer;
  std::string message;
};

// Follows the parser through the document (which key or element it is in, at every level) so a
// problem found mid-parse can name its JSON pointer, and checks depth and duplicate keys.
class JsonWalk {
 public:
  template <class Json>
  bool on_event(int depth, nlohmann::json::parse_event_t event, Json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        if (depth >= kMaxJsonDepth) {
          throw JsonLimit{pointer(), "arrays and objects nested deeper than " + std::to_string(kMaxJsonDepth) +
                                         " levels"};
        }
        frames_.push_back(Frame{event == Event::array_start, 0, {}, {}});
        break;
      case Event::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.template get<std::string>();
        if (!frame.keys.insert(frame.key).second) {
          throw JsonLimit{pointer(), "duplicate key '" + frame.key + "' (each key may appear once in an object)"};
        }
        break;
      }
      case Event::value:
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
        break;
      case Event::object_end:
      case Event::array_end:
        frames_.pop_back();
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
        break;
    }
    return true;
  }

  /// Where the parser is: the key or element being read at each level.
  std::string pointer() const {
    std::string out;
    for (const Frame& frame : frames_) {
      out += '/';
      out += frame.array ? std::to_string(frame.index) : escape_pointer_token(frame.key);
    }
    return out;
  }

 private:
  struct Frame {
    bool array;
    std::size_t index;
    std::string key;
    std::unordered_set<std::string> keys;
  };
  std::vector<Frame> frames_;
};

template <class Json>
std::optional<Json> parse_strict(std::string_view text, JsonProblem* problem) {
  JsonWalk walk;
  try {
    return Json::parse(text, [&walk](int depth, nlohmann::json::parse_event_t event, Json& parsed) {
      return walk.on_event(depth, event, parsed);
    });
  } catch (const JsonLimit& limit) {
    *problem = JsonProblem{limit.pointer, limit.message};
  } catch (const nlohmann::json::parse_error& error) {
    *problem = JsonProblem{std::nullopt, parse_error_text(error)};
  } catch (const nlohmann::json::out_of_range& error) {
    // A number beyond a double ("1e400"): nlohmann names the token, the walk names the place.
    std::string text_of = error.what();
    const auto at = text_of.find("] ");
    if (at != std::string::npos) text_of.erase(0, at + 2);
    *problem = JsonProblem{walk.pointer(), text_of + " (beyond the range of a double)"};
  } catch (const nlohmann::json::exception& error) {
    *problem = JsonProblem{walk.pointer(), std::string("cannot read JSON: ") + error.what()};
  }
  return std::nullopt;
}

}  // namespace

std::optional<nlohmann::json> parse_json_strict(std::string_view text, JsonProblem* problem) {
  return parse_strict<nlohmann::json>(text, problem);
}

std::optional<nlohmann::ordered_json> parse_ordered_json_strict(std::string_view text, JsonProblem* problem) {
  return parse_strict<nlohmann::ordered_json>(text, problem);
}

void throw_json_problem(const std::string& name, const JsonProblem& problem) {
  if (problem.pointer) throw ConfigError::at_pointer(name, *problem.pointer, problem.message);
  throw ConfigError::at(name, problem.message);
}

std::shared_ptr<const nlohmann::json> parse_json_text(const std::string& text, const std::string& name) {
  JsonProblem problem;
  std::optional<nlohmann::json> json = parse_json_strict(text, &problem);
  if (!json) throw_json_problem(name, problem);
  return std::make_shared<const nlohmann::json>(std::move(*json));
}

std::string read_json_file_text(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (std::filesystem::is_directory(status)) throw ConfigError::at(path, "is a directory, not a JSON file");
  if (std::filesystem::is_character_file(status) || std::filesystem::is_block_file(status) ||
      std::filesystem::is_socket(status)) {
    throw ConfigError::at(path, "is a device or socket, not a JSON file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError::at(path, "cannot open file (does it exist and is it readable?)");
  std::string text;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxJsonFileBytes) {
      throw ConfigError::at(path, "file larger than " + std::to_string(kMaxJsonFileBytes >> 20) +
                                      " MiB; not a servesim JSON input");
    }
  }
  if (in.bad()) throw ConfigError::at(path, "cannot read file (I/O error)");
  return text;
}

std::shared_ptr<const nlohmann::json> load_json_file(const std::string& path) {
  return parse_json_text(read_json_file_text(path), path);
}

ConfigNode::ConfigNode(std::shared_ptr<const nlohmann::json> root, std::string file)
    : ConfigNode(root, std::move(file), root.get(), "") {}

ConfigNode::ConfigNode(std::shared_ptr<const nlohmann::json> root, std::string file, const nlohmann::json* value,
                       std::string pointer)
    : root_(std::move(root)), file_(std::move(file)), value_(value), pointer_(std::move(pointer)) {}

void ConfigNode::fail(const std::string& message) const {
  throw ConfigError::at_pointer(file_, pointer_, message);
}

void ConfigNode::fail(const std::string& key, const std::string& message) const {
  throw ConfigError::at_pointer(file_, member_pointer(key), message);
}

std::string ConfigNode::member_pointer(const std::string& key) const {
  return pointer_ + "/" + escape_pointer_token(key);
}

void ConfigNode::require_object() const {
  if (!value_->is_object()) fail("expected an object, got " + type_name(*value_));
}

bool ConfigNode::has(const std::string& key) {
  require_object();
  asked_.insert(key);
  return value_->contains(key);
}

const nlohmann::json& ConfigNode::member(const std::string& key) {
  if (!has(key)) fail("missing required key '" + key + "'");
  return value_->at(key);
}

ConfigNode ConfigNode::member_node(const std::string& key) {
  const nlohmann::json& value = member(key);
  return ConfigNode(root_, file_, &value, member_pointer(key));
}

ConfigNode ConfigNode::child(const std::string& key) { return member_node(key); }

ConfigNode ConfigNode::element(std::size_t index) const {
  if (!value_->is_array()) fail("expected an array, got " + type_name(*value_));
  if (index >= value_->size()) {
    fail("expected at least " + std::to_string(index + 1) + " elements, got " + std::to_string(value_->size()));
  }
  return ConfigNode(root_, file_, &value_->at(index), pointer_ + "/" + std::to_string(index));
}

std::vector<ConfigNode> ConfigNode::array(const std::string& key) {
  ConfigNode node = member_node(key);
  if (!node.is_array()) node.fail("expected an array, got " + type_name(node.value()));
  std::vector<ConfigNode> out;
  out.reserve(node.size());
  for (std::size_t i = 0; i < node.size(); ++i) out.push_back(node.element(i));
  return out;
}

double ConfigNode::as_quantity(Dimension dimension, bool allow_zero) const {
  if (!value_->is_string()) {
    fail("expected " + dimension_description(dimension) + " as a string with a unit, got " +
         describe_json_value(*value_));
  }
  double quantity = 0.0;
  try {
    quantity = parse_quantity(value_->get<std::string>(), dimension);
  } catch (const std::invalid_argument& error) {
    fail("bad value " + describe_json_value(*value_) + ": " + error.what() + "; expected " +
         dimension_description(dimension));
  }
  if (quantity < 0.0 || (!allow_zero && quantity == 0.0)) {
    fail("bad value " + describe_json_value(*value_) + ": must be " + (allow_zero ? "non-negative" : "positive"));
  }
  return quantity;
}

int64_t ConfigNode::as_integer(int64_t min, int64_t max) const {
  if (!value_->is_number_integer()) {
    fail("expected an integer, got " + describe_json_value(*value_));
  }
  // Integers above INT64_MAX are held unsigned; read as int64 they would wrap to negatives.
  const bool beyond_int64 = value_->is_number_unsigned() &&
                            value_->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const int64_t value = beyond_int64 ? std::numeric_limits<int64_t>::max() : value_->get<int64_t>();
  if (value < min || value > max || beyond_int64) {
    fail("bad value " + describe_json_value(*value_) + ": must be in [" + std::to_string(min) + ", " +
         std::to_string(max) + "]");
  }
  return value;
}

double ConfigNode::as_number(double min, double max) const {
  if (!value_->is_number()) fail("expected a number, got " + describe_json_value(*value_));
  const double value = value_->get<double>();
  if (!(value >= min && value <= max)) {
    std::ostringstream range;
    range << "[" << min << ", " << max << "]";
    fail("bad value " + describe_json_value(*value_) + ": must be in " + range.str());
  }
  return value;
}

std::string ConfigNode::as_string() const {
  if (!value_->is_string()) fail("expected a string, got " + describe_json_value(*value_));
  return value_->get<std::string>();
}

double ConfigNode::quantity(const std::string& key, Dimension dimension) {
  return member_node(key).as_quantity(dimension);
}

double ConfigNode::quantity(const std::string& key, Dimension dimension, double default_value, bool allow_zero) {
  if (!has(key)) return default_value;
  return member_node(key).as_quantity(dimension, allow_zero);
}

int64_t ConfigNode::integer(const std::string& key, int64_t min, int64_t max) {
  return member_node(key).as_integer(min, max);
}

int64_t ConfigNode::integer(const std::string& key, int64_t min, int64_t max, int64_t default_value) {
  if (!has(key)) return default_value;
  return member_node(key).as_integer(min, max);
}

double ConfigNode::number(const std::string& key, double min, double max) {
  return member_node(key).as_number(min, max);
}

double ConfigNode::number(const std::string& key, double min, double max, double default_value) {
  if (!has(key)) return default_value;
  return member_node(key).as_number(min, max);
}

std::string ConfigNode::string(const std::string& key) { return member_node(key).as_string(); }

std::string ConfigNode::string(const std::string& key, const std::string& default_value) {
  if (!has(key)) return default_value;
  return member_node(key).as_string();
}

std::string ConfigNode::choice(const std::string& key, const std::vector<std::string>& allowed) {
  ConfigNode node = member_node(key);
  std::string value = node.as_string();
  for (const std::string& option : allowed) {
    if (option == value) return value;
  }
  node.fail("bad value " + describe_json_value(node.value()) + "; allowed: " + join(allowed));
}

std::string ConfigNode::choice(const std::string& key, const std::vector<std::string>& allowed,
                               const std::string& default_value) {
  if (!has(key)) return default_value;
  return choice(key, allowed);
}

bool ConfigNode::boolean(const std::string& key, bool default_value) {
  if (!has(key)) return default_value;
  ConfigNode node = member_node(key);
  if (!node.value().is_boolean()) node.fail("expected true or false, got " + describe_json_value(node.value()));
  return node.value().get<bool>();
}

void ConfigNode::finish() const {
  if (!value_->is_object()) return;
  for (const auto& item : value_->items()) {
    if (asked_.count(item.key()) == 0) {
      throw ConfigError::at_pointer(file_, member_pointer(item.key()),
                                    "unknown key '" + item.key() + "'; allowed: " + join(asked_));
    }
  }
}

}  // namespace servesim

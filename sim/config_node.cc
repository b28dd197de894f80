#include "sim/config_node.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "sim/config_error.h"

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

std::shared_ptr<const nlohmann::json> parse_json_text(const std::string& text, const std::string& name) {
  try {
    return std::make_shared<const nlohmann::json>(nlohmann::json::parse(text));
  } catch (const nlohmann::json::parse_error& error) {
    throw ConfigError::at(name, parse_error_text(error));
  }
}

std::shared_ptr<const nlohmann::json> load_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError::at(path, "cannot open file (does it exist and is it readable?)");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return parse_json_text(buffer.str(), path);
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
  const int64_t value = value_->get<int64_t>();
  if (value < min || value > max) {
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

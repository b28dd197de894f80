#include "sim/config/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "sim/core/config_error.h"

namespace servesim {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string entry_path(const std::string& catalog, const std::string& name) {
  return servesim_home() + "/" + catalog + "/" + name + ".json";
}

bool valid_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name.find("..") == std::string::npos;
}

}  // namespace

std::string servesim_home() {
  const char* home = std::getenv("SERVESIM_HOME");
  if (home != nullptr && home[0] != '\0') return home;
  return SERVESIM_SOURCE_DIR;
}

std::vector<std::string> catalog_names(const std::string& catalog) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(servesim_home() + "/" + catalog, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

ConfigNode load_entry(const std::string& catalog, const std::string& name, const std::string& what,
                      const std::string& where) {
  const std::vector<std::string> names = catalog_names(catalog);
  if (!valid_name(name) || std::find(names.begin(), names.end(), name) == names.end()) {
    throw ConfigError::at(where, "unknown " + what + " '" + name + "'; available: " + join(names));
  }
  const std::string path = entry_path(catalog, name);
  return ConfigNode(load_json_file(path), path);
}

ConfigNode resolve_entry(ConfigNode& parent, const std::string& key, const std::string& catalog,
                         const std::string& what, std::string* name) {
  ConfigNode node = parent.child(key);
  if (node.is_string()) {
    const std::string wanted = node.as_string();
    const std::vector<std::string> names = catalog_names(catalog);
    if (!valid_name(wanted) || std::find(names.begin(), names.end(), wanted) == names.end()) {
      node.fail("unknown " + what + " '" + wanted + "'; available: " + join(names));
    }
    if (name != nullptr) *name = wanted;
    const std::string path = entry_path(catalog, wanted);
    return ConfigNode(load_json_file(path), path);
  }
  if (!node.is_object()) {
    node.fail("expected a " + what + " name (string) or an inline object, got " + describe_json_value(node.value()));
  }
  if (name != nullptr) *name = node.string("name", key);
  return node;
}

}  // namespace servesim

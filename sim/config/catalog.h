#pragma once
// Contract: finds catalog entries by name. A catalog is a folder of JSON files
// under $SERVESIM_HOME (default: the source tree); an entry's name is its file
// name without ".json". Unknown names are user errors that list what exists.

#include <string>
#include <vector>

#include "sim/core/config_node.h"

namespace servesim {

/// $SERVESIM_HOME when set and non-empty, else the source tree servesim was built from.
std::string servesim_home();

/// Catalog folders, relative to servesim_home().
inline constexpr const char* kHardwareCatalog = "hardware/catalog";
inline constexpr const char* kCpuCatalog = "hardware/catalog/cpu";
inline constexpr const char* kHostLinkCatalog = "hardware/catalog/host_link";
inline constexpr const char* kFabricCatalog = "hardware/catalog/fabric";
inline constexpr const char* kNicCatalog = "hardware/catalog/nic";
inline constexpr const char* kSwitchCatalog = "hardware/catalog/switch";
inline constexpr const char* kClusterCatalog = "hardware/catalog/cluster";
inline constexpr const char* kModelCatalog = "models/llm/catalog";
inline constexpr const char* kEngineCatalog = "models/execution/engines";
inline constexpr const char* kCalibrationCatalog = "models/execution/calibrations";

/// Sorted names of the entries in `catalog` (a folder relative to servesim_home()).
std::vector<std::string> catalog_names(const std::string& catalog);

/// The node for member `key` of `parent`: the inline object, or the root of the
/// catalog file it names (`what` names the kind in messages: "hardware", "model").
/// Sets *name to the catalog name, or to the inline object's "name" (default `key`).
ConfigNode resolve_entry(ConfigNode& parent, const std::string& key, const std::string& catalog,
                         const std::string& what, std::string* name);

/// The root node of catalog entry `name`; throws ConfigError at `where` listing names when absent.
ConfigNode load_entry(const std::string& catalog, const std::string& name, const std::string& what,
                      const std::string& where);

}  // namespace servesim

#include "sim/core/registry.h"

namespace servesim {

std::map<std::pair<std::string, std::string>, ComponentInfo>& component_index() {
  static std::map<std::pair<std::string, std::string>, ComponentInfo> index;
  return index;
}

std::map<std::string, std::string>& interface_index() {
  static std::map<std::string, std::string> index;
  return index;
}

void record_component(const ComponentInfo& info, const std::string& interface_summary) {
  auto key = std::make_pair(info.interface_name, info.name);
  if (component_index().count(key) != 0) {
    // Two implementations claiming one name is a build mistake, not user input.
    std::fprintf(stderr, "servesim: internal error: %s '%s' is registered twice\n", info.interface_name.c_str(),
                 info.name.c_str());
    std::abort();
  }
  component_index().emplace(key, info);
  interface_index()[info.interface_name] = interface_summary;
}

}  // namespace servesim

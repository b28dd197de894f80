#include "sim/sweep/provenance.h"

#include <algorithm>

#include "git_commit.h"  // generated at build time (git_commit.cmake)
#include "sim/config/catalog.h"

namespace servesim {

nlohmann::ordered_json sweep_provenance(const std::string& sweep_path) {
  nlohmann::ordered_json out;
  out["servesim_version"] = SERVESIM_VERSION;
  out["source_commit"] = SERVESIM_GIT_COMMIT;
  out["source_uncommitted_changes"] = SERVESIM_GIT_DIRTY != 0;
  out["command"] = "servesim sweep " + sweep_path;
  out["command_note"] = "options that change no result (--out, --jobs, --resume) are not recorded";
  return out;
}

std::vector<nlohmann::json> plan_hardware(const nlohmann::ordered_json& config) {
  std::vector<nlohmann::json> out;
  auto add = [&](const nlohmann::ordered_json& node) {
    const nlohmann::json plain = nlohmann::json::parse(node.dump());
    if (std::find(out.begin(), out.end(), plain) == out.end()) out.push_back(plain);
  };
  add(config.value("hardware", nlohmann::ordered_json()));
  if (config.contains("disaggregation") && config.at("disaggregation").is_object()) {
    for (const char* role : {"prefill", "decode"}) {
      const auto& pool = config.at("disaggregation").value(role, nlohmann::ordered_json::object());
      if (pool.is_object() && pool.contains("hardware")) add(pool.at("hardware"));
    }
  }
  return out;
}

std::string hardware_calibration(const nlohmann::json& hardware) {
  const nlohmann::json::json_pointer at("/gpu/calibration");
  if (hardware.is_object()) {
    return hardware.contains(at) && hardware.at(at).is_string() ? hardware.at(at).get<std::string>() : "";
  }
  if (!hardware.is_string()) return "";
  ConfigNode entry = load_entry(kHardwareCatalog, hardware.get<std::string>(), "hardware", "sweep");
  const nlohmann::json& value = entry.value();
  return value.contains(at) && value.at(at).is_string() ? value.at(at).get<std::string>() : "";
}

}  // namespace servesim

#include "sim/config/provenance.h"

#include <algorithm>
#include <memory>

#include "git_commit.h"  // generated at build time (git_commit.cmake)
#include "models/energy/power_model.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"

namespace servesim {

nlohmann::ordered_json build_provenance(const std::string& command, const std::string& command_note) {
  nlohmann::ordered_json out;
  out["servesim_version"] = SERVESIM_VERSION;
  out["source_commit"] = SERVESIM_GIT_COMMIT;
  out["source_uncommitted_changes"] = SERVESIM_GIT_DIRTY != 0;
  out["command"] = command;
  out["command_note"] = command_note;
  return out;
}

nlohmann::ordered_json sweep_provenance(const std::string& sweep_path) {
  return build_provenance("servesim sweep " + sweep_path,
                          "options that change no result (--out, --jobs, --resume) are not recorded");
}

nlohmann::ordered_json run_provenance(const std::string& config_path, const nlohmann::ordered_json& resolved_config) {
  nlohmann::ordered_json out = build_provenance(
      "servesim run " + config_path, "options that change no result (--out, --timeline, --report) are not recorded");
  out["gpus"] = gpu_calibrations(plan_hardware(resolved_config));
  return out;
}

std::vector<nlohmann::json> plan_hardware(const nlohmann::ordered_json& config) {
  std::vector<nlohmann::json> out;
  auto add = [&](const nlohmann::ordered_json& node) {
    const nlohmann::json plain = nlohmann::json::parse(node.dump());
    if (std::find(out.begin(), out.end(), plain) == out.end()) out.push_back(plain);
  };
  const nlohmann::ordered_json node = config.value("hardware", nlohmann::ordered_json());
  if (!config.contains("disaggregation") || !config.at("disaggregation").is_object()) {
    add(node);
    return out;
  }
  // Each pool runs on its own hardware or, without one, on the node's.
  for (const char* role : {"prefill", "decode"}) {
    const auto& pool = config.at("disaggregation").value(role, nlohmann::ordered_json::object());
    add(pool.is_object() && pool.contains("hardware") ? pool.at("hardware") : node);
  }
  return out;
}

std::string hardware_name(const nlohmann::json& hardware) {
  if (hardware.is_string()) return hardware.get<std::string>();
  const nlohmann::json::json_pointer gpu_name("/gpu/name");
  if (hardware.is_object() && hardware.contains(gpu_name) && hardware.at(gpu_name).is_string()) {
    return "inline " + hardware.at(gpu_name).get<std::string>();
  }
  return "inline hardware";
}

GpuCalibration hardware_calibration(const nlohmann::json& hardware) {
  // The node as a run reads it (calibration file included), so the answer is the run's own.
  NodeSpec node;
  if (hardware.is_string()) {
    node = load_node(hardware.get<std::string>());
  } else {
    ConfigNode inline_node(std::make_shared<const nlohmann::json>(hardware), "hardware");
    node = read_node(inline_node, hardware_name(hardware));
  }
  GpuCalibration out;
  out.hardware = hardware_name(hardware);
  out.gpu = node.gpu.name;
  out.calibration = node.gpu.efficiency.calibrated ? node.gpu.calibration : "";
  out.power_measured = power_is_measured(node.gpu.efficiency);
  return out;
}

nlohmann::ordered_json gpu_calibrations(const std::vector<nlohmann::json>& hardware) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& node : hardware) {
    const GpuCalibration c = hardware_calibration(node);
    nlohmann::ordered_json entry;
    entry["hardware"] = c.hardware;
    entry["gpu"] = c.gpu;
    entry["execution"] = c.calibration.empty() ? "datasheet" : "measured";
    if (!c.calibration.empty()) entry["calibration"] = c.calibration;
    entry["power"] = c.power_measured ? "measured" : "datasheet";
    out.push_back(entry);
  }
  return out;
}

}  // namespace servesim

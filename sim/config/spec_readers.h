#pragma once
// Contract: fill the typed specs (NodeSpec, ModelSpec, EngineProfile,
// ParallelPlan) from JSON nodes, validating every field with its unit and
// rejecting unknown keys. Catalog entries and inline objects use the same keys.
// These readers are the only place hardware / model / engine JSON is read.

#include "models/execution/deployment.h"
#include "sim/core/config_node.h"

namespace servesim {

/// A node file (hardware/catalog/*.json) or inline object; loads the GPU's named
/// calibration unless `with_calibration` is false (calibrate builds it).
NodeSpec read_node(ConfigNode& node, const std::string& name, bool with_calibration = true);
ModelSpec read_model(ConfigNode& node, const std::string& name);
EngineProfile read_engine(ConfigNode& node, const std::string& name);
/// Checks the plan against the model and node: TP divides heads, groups larger than a node fill whole nodes,
/// PP <= layers.
ParallelPlan read_plan(ConfigNode& node, const ModelSpec& model, const NodeSpec& hardware);

/// Lets a catalog entry's "source", "description" and "name" through unread (documentation).
void skip_documentation(ConfigNode& node);
/// Optional "idle_power" and "active_power" (watts) of a device; active at least idle when both are given.
DevicePower read_device_power(ConfigNode& node);

/// Loads a catalog entry by name and reads it (for tools and tests).
NodeSpec load_node(const std::string& name, bool with_calibration = true);
/// A fabric catalog entry (hardware/catalog/fabric/NAME.json).
FabricSpec load_fabric(const std::string& name);
ModelSpec load_model(const std::string& name);
EngineProfile load_engine(const std::string& name);

}  // namespace servesim

#pragma once
// Contract: a sweep file, read and validated, and the plans it stands for.
// A sweep file is {"base": CONFIG, "variants": {NAME: {POINTER: VALUE, ...}, ...},
// "axes": {POINTER: [VALUES...], ...}, "objectives": [{"metric": NAME, "goal":
// "min" | "max"}, ...]}: CONFIG is a
// run config object (what `servesim run` takes) or a path to one, relative to
// the sweep file; each axis is a JSON pointer into the config and the values
// it takes. The plans are the cartesian product of the axes in the order they
// are given, the last axis varying fastest; plan i sets each axis pointer to
// its value in the base config (a missing last key is added). Validation is
// strict and names the sweep file and the JSON pointer: unknown keys, no axes,
// an empty axis, a pointer that is not a JSON pointer, whose parent is missing
// or not an object / array in the base config, or that overlaps another axis.
// The values themselves are checked by the plan's run (a bad or infeasible
// value makes that one plan infeasible, not the sweep). A sweep has at most
// kMaxSweepPlans plans.
// Variants (optional) are named sets of changes made together, a value of
// null removing the key: e.g. a co-located plan against a disaggregated one
// ({"/plan": null, "/disaggregation": {...}}); one without changes is the base
// as it is. They act as a first axis named "variant" (varying slowest),
// applied before the other axes; a sweep needs variants or axes or both.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace servesim {

/// Most plans a sweep may have (each is a simulation in its own process); more is refused when read.
constexpr std::size_t kMaxSweepPlans = 1'000'000;

struct SweepAxis {
  std::string pointer;  // JSON pointer into the run config ("/plan/tp"), or "variant"
  std::vector<nlohmann::ordered_json> values;  // the variant axis: the variants' names
  // The variant axis only: per value, the (pointer, value) changes it makes (null value = remove).
  std::vector<std::vector<std::pair<std::string, nlohmann::ordered_json>>> changes;
};

struct SweepObjective {
  std::string metric;  // one of sweep_metric_names()
  bool maximize = false;
};

struct SweepSpec {
  std::string file;       // the sweep file (messages)
  std::string base_name;  // what the plans' configs are called in messages (base file, or the sweep file)
  nlohmann::ordered_json base;
  std::vector<SweepAxis> axes;
  std::vector<SweepObjective> objectives;

  /// Number of plans: the product of the axis sizes.
  std::size_t plans() const;
  /// The value index on each axis of plan `index` (last axis fastest).
  std::vector<std::size_t> coordinates(std::size_t index) const;
  /// The run config of plan `index`: the base with each axis pointer set.
  nlohmann::ordered_json config(std::size_t index) const;
  /// The sweep as read, with defaults filled in (sweep.resolved.json).
  nlohmann::ordered_json resolved() const;
};

/// The metrics a sweep reports per plan, in sweep.csv column order (objectives pick from these).
const std::vector<std::string>& sweep_metric_names();

/// The default objectives: maximize output tokens/s per GPU, minimize TTFT p99 and TPOT p99.
std::vector<SweepObjective> default_objectives();

/// Reads and validates a sweep file; throws ConfigError (file, JSON pointer, message).
SweepSpec read_sweep_spec(const std::string& path);

}  // namespace servesim

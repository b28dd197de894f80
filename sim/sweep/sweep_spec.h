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
// Constraints (optional) are {METRIC: "OP VALUE"}, OP one of <=, <, >=, >:
// durations and energies are unit strings parsed as every other quantity
// ("<= 50 ms", "<= 0.5 J"), the rest plain numbers in the metric's own unit
// (gpus, USD per hour, requests per second, a fraction for slo_attainment).
// A plan that misses one is kept in sweep.csv with the constraints it
// violates named, and stays out of the front. Prices (optional) override the
// on-demand GPU prices of hardware catalog entries by entry name, each with
// its source and date (sim/sweep/gpu_price.h).
// Capacity (optional, needs constraints): {"precision": FRACTION, "max_sims":
// N} searches, per plan, the highest request rate at which every constraint
// holds: the generator's "rate", or a trace's "rate_scale" (reported in
// requests/s at that scale). See sim/sweep/capacity_search.h.

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
  std::string metric;  // one of sweep_objective_names()
  bool maximize = false;
};

/// One constraint a plan must meet to be on the front: value(metric) OP bound.
struct SweepConstraint {
  enum class Op { kAtMost, kBelow, kAtLeast, kAbove };
  std::string metric;  // one of sweep_constraint_names()
  Op op = Op::kAtMost;
  double bound = 0.0;  // SI units (seconds, joules) or the metric's own unit
  std::string text;    // as written ("<= 50 ms"), for messages and sweep.resolved.json

  /// Whether `value` meets the constraint (NaN never does).
  bool holds(double value) const;
};

/// The capacity search's settings ("capacity" in the sweep file).
struct SweepCapacity {
  bool enabled = false;
  double precision = 0.05;  // stop once the bracket [lo, hi] has hi / lo - 1 <= precision
  int64_t max_sims = 16;    // simulations per plan at most, the plan's own run included
};

struct SweepSpec {
  std::string file;       // the sweep file (messages)
  std::string base_name;  // what the plans' configs are called in messages (base file, or the sweep file)
  nlohmann::ordered_json base;
  std::vector<SweepAxis> axes;
  std::vector<SweepObjective> objectives;
  std::vector<SweepConstraint> constraints;
  /// "prices": hardware catalog entry name -> its "price" object as given (read by sim/sweep/gpu_price.h).
  nlohmann::ordered_json prices = nlohmann::ordered_json::object();
  SweepCapacity capacity;

  /// Number of plans: the product of the axis sizes.
  std::size_t plans() const;
  /// The value index on each axis of plan `index` (last axis fastest).
  std::vector<std::size_t> coordinates(std::size_t index) const;
  /// The run config of plan `index`: the base with each axis pointer set.
  nlohmann::ordered_json config(std::size_t index) const;
  /// The sweep as read, with defaults filled in (sweep.resolved.json).
  nlohmann::ordered_json resolved() const;
};

/// The metrics a sweep reports per plan, in sweep.csv column order (after the gpus column).
const std::vector<std::string>& sweep_metric_names();
/// What an objective may be: "gpus" and every sweep metric.
const std::vector<std::string>& sweep_objective_names();
/// What a constraint may be on: "gpus" and the metrics one run measures (not the capacity search's).
/// Of these, "gpus" and "cost_per_hour" do not change with the request rate.
const std::vector<std::string>& sweep_constraint_names();

/// The default objectives: maximize output tokens/s per GPU, minimize TTFT p99 and TPOT p99.
std::vector<SweepObjective> default_objectives();

/// Reads and validates a sweep file; throws ConfigError (file, JSON pointer, message).
SweepSpec read_sweep_spec(const std::string& path);

}  // namespace servesim

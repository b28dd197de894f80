#include "sim/sweep/sweep_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>

#include "sim/config/catalog.h"
#include "sim/core/config_error.h"
#include "sim/core/config_node.h"
#include "sim/sweep/gpu_price.h"
#include "sim/core/units.h"

namespace servesim {
namespace {

// The file's text as an ordered_json (keys in file order, which decides the axis order),
// parsed as strictly as every other JSON input.
nlohmann::ordered_json load_ordered(const std::string& path, std::string* text = nullptr) {
  std::string read = read_json_file_text(path);
  JsonProblem problem;
  std::optional<nlohmann::ordered_json> json = parse_ordered_json_strict(read, &problem);
  if (!json) throw_json_problem(path, problem);
  if (text != nullptr) *text = std::move(read);
  return std::move(*json);
}

bool is_prefix_pointer(const std::string& prefix, const std::string& pointer) {
  return pointer.size() > prefix.size() && pointer.compare(0, prefix.size(), prefix) == 0 &&
         pointer[prefix.size()] == '/';
}

// Checks that `pointer` names a settable place in `base`: its parent exists
// and is an object, or an array indexed within range.
void check_settable(const nlohmann::ordered_json& base, const std::string& pointer, const ConfigNode& axes) {
  nlohmann::ordered_json::json_pointer parsed;
  try {
    parsed = nlohmann::ordered_json::json_pointer(pointer);
  } catch (const nlohmann::json::exception&) {
    axes.fail(pointer, "not a JSON pointer (give \"/key/key...\", with ~0 for ~ and ~1 for /)");
  }
  if (parsed.empty()) axes.fail(pointer, "the whole config cannot be an axis; point at a key inside it");
  const auto parent = parsed.parent_pointer();
  const std::string parent_text = parent.to_string().empty() ? "/" : parent.to_string();
  if (!base.contains(parent)) axes.fail(pointer, "does not resolve in the base config: " + parent_text + " is missing");
  const auto& container = base.at(parent);
  if (container.is_object()) return;
  if (container.is_array()) {
    const std::string& last = parsed.back();
    const bool index = !last.empty() && last.find_first_not_of("0123456789") == std::string::npos &&
                       (last == "0" || last[0] != '0') && last.size() < 10;
    if (index && std::stoul(last) < container.size()) return;
    axes.fail(pointer, "does not resolve in the base config: " + parent_text + " has no element '" + last + "'");
  }
  axes.fail(pointer, "does not resolve in the base config: " + parent_text + " is not an object");
}

// "more than 18446744073709551615" where the exact product does not fit in 64 bits.
std::string plans_text(std::size_t plans, std::size_t axis_size) {
  if (plans > std::numeric_limits<std::size_t>::max() / axis_size) {
    return "more than " + std::to_string(std::numeric_limits<std::size_t>::max());
  }
  return std::to_string(plans * axis_size);
}

// The unit a constraint's value is written in: durations (metrics ending in _s, requests_per_s
// aside) and energies as unit strings, everything else a plain number in the metric's own unit.
std::optional<Dimension> constraint_dimension(const std::string& metric) {
  if (metric == "j_per_output_token") return Dimension::kJoules;
  const bool seconds = metric.size() > 2 && metric.compare(metric.size() - 2, 2, "_s") == 0 &&
                       metric.find("_per_s") == std::string::npos;
  if (seconds) return Dimension::kSeconds;
  return std::nullopt;
}

// "OP VALUE" for `metric` (the sweep file's "constraints" member `node`).
SweepConstraint read_constraint(const ConfigNode& node, const std::string& metric) {
  const std::string usage = "give \"OP VALUE\" with OP one of <=, <, >=, > (e.g. \"<= 1 s\", \">= 0.9\")";
  if (!node.is_string()) node.fail("expected a string, got " + describe_json_value(node.value()) + "; " + usage);
  SweepConstraint constraint;
  constraint.metric = metric;
  constraint.text = node.as_string();
  std::string_view rest = constraint.text;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  static const std::pair<std::string_view, SweepConstraint::Op> kOps[] = {{"<=", SweepConstraint::Op::kAtMost},
                                                                           {">=", SweepConstraint::Op::kAtLeast},
                                                                           {"<", SweepConstraint::Op::kBelow},
                                                                           {">", SweepConstraint::Op::kAbove}};
  bool found = false;
  for (const auto& [symbol, op] : kOps) {
    if (rest.substr(0, symbol.size()) == symbol) {
      constraint.op = op;
      rest.remove_prefix(symbol.size());
      found = true;
      break;
    }
  }
  const std::string bad = "bad constraint " + describe_json_value(node.value()) + ": ";
  if (!found) node.fail(bad + "no comparison; " + usage);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  if (rest.empty()) node.fail(bad + "no value after the comparison; " + usage);
  const std::optional<Dimension> dimension = constraint_dimension(metric);
  if (dimension) {
    try {
      constraint.bound = parse_quantity(rest, *dimension);
    } catch (const std::invalid_argument& error) {
      node.fail(bad + error.what() + " (expected " + dimension_description(*dimension) + ")");
    }
  } else {
    const std::string number(rest);
    char* end = nullptr;
    constraint.bound = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || *end != '\0' || !std::isfinite(constraint.bound)) {
      node.fail(bad + "expected a plain number (" + metric + " has no unit string), got '" + number + "'");
    }
  }
  return constraint;
}

}  // namespace

const std::vector<std::string>& sweep_metric_names() {
  static const std::vector<std::string> names = {
      "requests_per_s", "output_tokens_per_s_per_gpu", "goodput_requests_per_s_per_gpu",
      "ttft_p50_s",     "ttft_p99_s",                  "tpot_p50_s",
      "tpot_p99_s",     "j_per_output_token",          "slo_attainment",
      "cost_per_hour",  "cost_per_million_output_tokens",
      "max_rate_req_s", "max_rate_req_s_per_gpu",      "max_goodput_requests_per_s_per_gpu",
      "max_rate_cost_per_million_output_tokens",       "max_rate_precision", "capacity_sims"};
  return names;
}

const std::vector<std::string>& sweep_objective_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out{"gpus"};
    for (const auto& name : sweep_metric_names()) {
      if (name != "max_rate_precision" && name != "capacity_sims") out.push_back(name);  // how, not what
    }
    return out;
  }();
  return names;
}

const std::vector<std::string>& sweep_constraint_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out{"gpus"};
    for (const auto& name : sweep_metric_names()) {
      if (name.rfind("max_", 0) != 0 && name != "capacity_sims") out.push_back(name);
    }
    return out;
  }();
  return names;
}

bool SweepConstraint::holds(double value) const {
  if (std::isnan(value)) return false;
  switch (op) {
    case Op::kAtMost: return value <= bound;
    case Op::kBelow: return value < bound;
    case Op::kAtLeast: return value >= bound;
    case Op::kAbove: return value > bound;
  }
  return false;
}

std::vector<SweepObjective> default_objectives() {
  return {{"output_tokens_per_s_per_gpu", true}, {"ttft_p99_s", false}, {"tpot_p99_s", false}};
}

std::size_t SweepSpec::plans() const {
  std::size_t n = 1;
  for (const auto& axis : axes) n *= axis.values.size();
  return n;
}

std::vector<std::size_t> SweepSpec::coordinates(std::size_t index) const {
  std::vector<std::size_t> at(axes.size());
  for (std::size_t k = axes.size(); k-- > 0;) {
    at[k] = index % axes[k].values.size();
    index /= axes[k].values.size();
  }
  return at;
}

nlohmann::ordered_json SweepSpec::config(std::size_t index) const {
  nlohmann::ordered_json out = base;
  const auto at = coordinates(index);
  for (std::size_t k = 0; k < axes.size(); ++k) {
    if (axes[k].changes.empty()) {
      out[nlohmann::ordered_json::json_pointer(axes[k].pointer)] = axes[k].values[at[k]];
      continue;
    }
    for (const auto& [pointer, value] : axes[k].changes[at[k]]) {
      const nlohmann::ordered_json::json_pointer where(pointer);
      if (!value.is_null()) {
        out[where] = value;
      } else if (out.contains(where)) {
        out.at(where.parent_pointer()).erase(where.back());  // parents of removals are objects (checked)
      }
    }
  }
  return out;
}

nlohmann::ordered_json SweepSpec::resolved() const {
  nlohmann::ordered_json out;
  out["base"] = base;
  nlohmann::ordered_json variants_json = nlohmann::ordered_json::object();
  nlohmann::ordered_json axes_json = nlohmann::ordered_json::object();
  for (const auto& axis : axes) {
    if (axis.changes.empty()) {
      axes_json[axis.pointer] = axis.values;
      continue;
    }
    for (std::size_t v = 0; v < axis.values.size(); ++v) {
      nlohmann::ordered_json changes = nlohmann::ordered_json::object();
      for (const auto& [pointer, value] : axis.changes[v]) changes[pointer] = value;
      variants_json[axis.values[v].get<std::string>()] = changes;
    }
  }
  if (!variants_json.empty()) out["variants"] = variants_json;
  out["axes"] = axes_json;
  nlohmann::ordered_json objectives_json = nlohmann::ordered_json::array();
  for (const auto& objective : objectives) {
    objectives_json.push_back({{"metric", objective.metric}, {"goal", objective.maximize ? "max" : "min"}});
  }
  out["objectives"] = objectives_json;
  if (!constraints.empty()) {
    nlohmann::ordered_json constraints_json = nlohmann::ordered_json::object();
    for (const auto& constraint : constraints) constraints_json[constraint.metric] = constraint.text;
    out["constraints"] = constraints_json;
  }
  if (!prices.empty()) out["prices"] = prices;
  if (capacity.enabled) {
    out["capacity"] = {{"precision", capacity.precision},
                       {"max_sims", capacity.max_sims},
                       {"searches", "/workload/generator/rate, or /workload/trace/rate_scale for a trace"},
                       {"method", "from the plan's own rate, doubling (or halving) until the constraints fail (or "
                                  "hold), then geometric bisection of [holds, fails] until fails / holds - 1 <= "
                                  "precision or max_sims simulations; assumes the constraints fail at every rate "
                                  "above one where they fail"}};
  }
  out["plans"] = plans();
  out["order"] = "cartesian product of the variants (slowest) and the axes in the order given, the last axis "
                 "varying fastest; plan i writes its outputs to runs/i";
  return out;
}

SweepSpec read_sweep_spec(const std::string& path) {
  SweepSpec spec;
  spec.file = path;
  std::string text;
  const nlohmann::ordered_json ordered = load_ordered(path, &text);
  ConfigNode root(parse_json_text(text, path), path);
  root.require_object();

  // base: inline, or a file relative to the sweep file.
  ConfigNode base = root.child("base");
  if (base.is_string()) {
    std::filesystem::path base_path = base.as_string();
    if (base_path.is_relative()) base_path = std::filesystem::path(path).parent_path() / base_path;
    spec.base_name = base_path.string();
    spec.base = load_ordered(spec.base_name);
    if (!spec.base.is_object()) {
      throw ConfigError::at_pointer(spec.base_name, "", "expected an object (a run config)");
    }
  } else {
    if (!base.is_object()) base.fail("expected a run config object or a path to one");
    spec.base_name = path;
    spec.base = ordered.at("base");
  }

  // variants: named sets of changes, the first (slowest) axis.
  if (root.has("variants")) {
    ConfigNode variants = root.child("variants");
    variants.require_object();
    if (ordered.at("variants").empty()) variants.fail("no variants: give at least one {\"name\": {\"/pointer\": value}}");
    if (ordered.at("variants").size() > kMaxSweepPlans) {
      variants.fail(std::to_string(ordered.at("variants").size()) + " variants; a sweep may have at most " +
                    std::to_string(kMaxSweepPlans) + " plans");
    }
    SweepAxis axis;
    axis.pointer = "variant";
    for (const auto& [name, changes] : ordered.at("variants").items()) {
      ConfigNode node = variants.child(name);
      node.require_object();
      std::vector<std::pair<std::string, nlohmann::ordered_json>> list;
      for (const auto& [pointer, value] : changes.items()) {
        check_settable(spec.base, pointer, node);
        const nlohmann::ordered_json::json_pointer where(pointer);
        if (value.is_null() && !spec.base.at(where.parent_pointer()).is_object()) {
          node.fail(pointer, "null removes a key, so it needs an object member, not an array element");
        }
        node.has(pointer);
        list.emplace_back(pointer, value);
      }
      axis.values.emplace_back(name);
      axis.changes.push_back(std::move(list));
    }
    spec.axes.push_back(std::move(axis));
  }

  // axes, in the order the file gives them.
  const bool has_variants = !spec.axes.empty();
  std::size_t plans = has_variants ? spec.axes.front().values.size() : 1;
  if (!root.has("axes") && !has_variants) {
    root.fail("axes", "missing: give \"axes\": {\"/json/pointer\": [values...]} or \"variants\"");
  }
  if (root.has("axes")) {
    ConfigNode axes = root.child("axes");
    axes.require_object();
    if (!has_variants && ordered.at("axes").empty()) {
      axes.fail("no axes: give at least one {\"/json/pointer\": [values...]}");
    }
    for (const auto& [pointer, values] : ordered.at("axes").items()) {
      ConfigNode node = axes.child(pointer);
      if (!node.is_array()) node.fail("expected an array of values, got " + describe_json_value(node.value()));
      if (node.size() == 0) node.fail("empty axis: give at least one value");
      check_settable(spec.base, pointer, axes);
      for (const auto& other : spec.axes) {
        if (!other.changes.empty()) continue;  // an axis may vary a key inside what a variant sets
        if (is_prefix_pointer(other.pointer, pointer) || is_prefix_pointer(pointer, other.pointer)) {
          axes.fail(pointer, "overlaps axis " + other.pointer);
        }
      }
      if (plans > kMaxSweepPlans / node.size()) {
        node.fail("the sweep would have " + plans_text(plans, node.size()) + " plans (the product of the axis " +
                  "sizes); at most " + std::to_string(kMaxSweepPlans) + " are allowed");
      }
      plans *= node.size();
      SweepAxis axis;
      axis.pointer = pointer;
      for (const auto& value : values) axis.values.push_back(value);
      spec.axes.push_back(std::move(axis));
    }
  }

  // objectives: [{"metric", "goal"}], default output tok/s per GPU up, TTFT and TPOT p99 down.
  if (root.has("objectives")) {
    std::vector<ConfigNode> items = root.array("objectives");
    if (items.empty()) root.fail("objectives", "empty: give at least one objective, or leave the key out");
    for (ConfigNode& item : items) {
      item.require_object();
      SweepObjective objective;
      objective.metric = item.choice("metric", sweep_objective_names());
      objective.maximize = item.choice("goal", {"min", "max"}) == "max";
      item.finish();
      spec.objectives.push_back(objective);
    }
  } else {
    spec.objectives = default_objectives();
  }

  // constraints: {METRIC: "OP VALUE"}, in file order.
  if (root.has("constraints")) {
    ConfigNode constraints = root.child("constraints");
    constraints.require_object();
    const auto& allowed = sweep_constraint_names();
    for (const auto& [metric, value] : ordered.at("constraints").items()) {
      ConfigNode node = constraints.child(metric);
      if (std::find(allowed.begin(), allowed.end(), metric) == allowed.end()) {
        std::string list;
        for (const auto& name : allowed) list += (list.empty() ? "" : ", ") + name;
        node.fail("unknown metric '" + metric + "'; allowed: " + list);
      }
      spec.constraints.push_back(read_constraint(node, metric));
    }
  }

  // prices: {HARDWARE ENTRY: PRICE}, overriding the catalog's, each checked as the catalog's are.
  if (root.has("prices")) {
    ConfigNode prices = root.child("prices");
    prices.require_object();
    const std::vector<std::string> names = catalog_names(kHardwareCatalog);
    for (const auto& [name, value] : ordered.at("prices").items()) {
      ConfigNode node = prices.child(name);
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        std::string list;
        for (const auto& known : names) list += (list.empty() ? "" : ", ") + known;
        node.fail("no hardware catalog entry '" + name + "'; prices are given per entry: " + list);
      }
      read_gpu_price(node);
      spec.prices[name] = value;
    }
  }
  // capacity: the highest rate each plan sustains within the constraints.
  if (root.has("capacity")) {
    ConfigNode capacity = root.child("capacity");
    capacity.require_object();
    spec.capacity.enabled = true;
    spec.capacity.precision = capacity.number("precision", 1e-6, 1.0, spec.capacity.precision);
    spec.capacity.max_sims = capacity.integer("max_sims", 2, 1000, spec.capacity.max_sims);
    capacity.finish();
    if (spec.constraints.empty()) {
      capacity.fail("needs \"constraints\": the search finds the highest request rate at which they all hold");
    }
  }
  root.finish();
  return spec;
}

}  // namespace servesim

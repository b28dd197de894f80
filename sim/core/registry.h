#pragma once
// Contract: every pluggable concept (scheduler, KV cache, router, execution
// model, collective model, power model, trace format, workload generator) is an
// interface whose implementations register here by name, from a static
// initialiser, with SERVESIM_REGISTER. The registry lives in a function-local
// static (no initialisation-order trouble). A duplicate (interface, name) is a
// bug and aborts at start-up with a message. `servesim list` prints every
// ComponentInfo. Registration happens before main; lookups are read-only after.
// Configs look up the scheduler, KV cache, router, trace format, workload
// generator, collective model and network topology; the execution and power
// models have one implementation each, built by the execution model from the
// catalogs, and `servesim list` shows them as built in (tools/cmd_list.cc).
//
// An interface opts in by declaring, inside the class:
//   static constexpr const char* kInterfaceName = "scheduler";
//   static constexpr const char* kInterfaceSummary = "forms each iteration's batch";
//   using Factory = std::function<std::unique_ptr<Scheduler>(const ParamValues&, const SchedulerContext&)>;

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/params.h"

namespace servesim {

struct ComponentInfo {
  std::string interface_name;
  std::string name;
  std::string description;
  ParamSpecs params;
};

/// Every registered implementation of every interface, keyed (interface, name).
std::map<std::pair<std::string, std::string>, ComponentInfo>& component_index();
/// One-line summary of each interface, keyed by interface name.
std::map<std::string, std::string>& interface_index();

/// Records `info`; aborts with a message if (interface, name) is already taken.
void record_component(const ComponentInfo& info, const std::string& interface_summary);

template <class Interface>
class Registry {
 public:
  using Factory = typename Interface::Factory;

  struct Entry {
    ComponentInfo info;
    Factory factory;
  };

  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  bool add(std::string name, std::string description, ParamSpecs params, Factory factory) {
    ComponentInfo info{Interface::kInterfaceName, std::move(name), std::move(description), std::move(params)};
    record_component(info, Interface::kInterfaceSummary);
    entries_.emplace(info.name, Entry{info, std::move(factory)});
    return true;
  }

  /// The entry for `name`, or nullptr.
  const Entry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// Registered names, sorted, comma separated (for "allowed: ..." messages).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_) out.push_back(name);
    return out;
  }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace servesim

#define SERVESIM_CONCAT_INNER(a, b) a##b
#define SERVESIM_CONCAT(a, b) SERVESIM_CONCAT_INNER(a, b)

/// Registers an implementation: SERVESIM_REGISTER(Scheduler, "vllm", "vLLM v1 default", specs, factory);
#define SERVESIM_REGISTER(Interface, name, description, params, factory)                                  \
  [[maybe_unused]] static const bool SERVESIM_CONCAT(servesim_registered_, __LINE__) =                   \
      ::servesim::Registry<Interface>::instance().add(name, description, params, factory)

#include "sim/serving/cluster_reader.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "hardware/platform/network_topology.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"
#include "sim/core/registry.h"
#include "sim/serving/run_config_reader.h"

namespace servesim {
namespace {

NicSpec read_nic(ConfigNode& node, const std::string& name) {
  node.require_object();
  NicSpec nic;
  skip_documentation(node);
  nic.name = node.string("name", name);
  nic.bytes_per_s = node.quantity("bandwidth", Dimension::kBytesPerSecond);
  nic.latency_s = node.quantity("latency", Dimension::kSeconds, 0.0, true);
  nic.power = read_device_power(node);
  node.finish();
  return nic;
}

SwitchSpec read_switch(ConfigNode& node, const std::string& name) {
  node.require_object();
  SwitchSpec spec;
  skip_documentation(node);
  spec.name = node.string("name", name);
  spec.latency_s = node.quantity("latency", Dimension::kSeconds, 0.0, true);
  spec.ports = node.integer("ports", 0, 1 << 20, 0);
  spec.power = read_device_power(node);
  if (spec.power.given() && spec.ports == 0) node.fail("idle_power", "switch power needs \"ports\"");
  node.finish();
  return spec;
}

}  // namespace

ClusterChoice read_cluster(ConfigNode& root, const NodeSpec& node) {
  ClusterChoice choice;
  std::string preset;
  ConfigNode c = resolve_entry(root, "cluster", kClusterCatalog, "cluster", &preset);
  skip_documentation(c);
  if (root.child("cluster").is_string()) choice.resolved["preset"] = preset;
  // A preset names the node it is made of: the config's hardware must be that node.
  const std::string made_of = c.string("node", node.name);
  if (made_of != node.name) {
    c.fail("node", "cluster '" + preset + "' is made of " + made_of + " nodes, but the config's hardware is " +
                       node.name + ": set \"hardware\": \"" + made_of + "\"");
  }
  ClusterSpec& spec = choice.spec;
  spec.node = node;
  spec.nodes = c.integer("nodes", 1, 1 << 16);
  choice.resolved["nodes"] = spec.nodes;
  if (spec.nodes > 1) {
    if (!c.has("network")) c.fail("network", "a cluster of several nodes needs a \"network\" joining them");
    ConfigNode net = c.child("network");
    net.require_object();
    NetworkSpec& network = spec.network;
    const auto& registry = Registry<NetworkTopology>::instance();
    network.topology = net.choice("topology", registry.names(), "single-switch");
    const auto* entry = registry.find(network.topology);
    network.topology_params = read_params(net, entry->info.params);
    std::string name;
    ConfigNode nic = resolve_entry(net, "nic", kNicCatalog, "NIC", &name);
    network.nic = read_nic(nic, name);
    ConfigNode sw = resolve_entry(net, "switch", kSwitchCatalog, "switch", &name);
    network.switch_spec = read_switch(sw, name);
    network.nics_per_node = net.integer("nics_per_node", 1, node.gpus_per_node, node.gpus_per_node);
    net.finish();
    nlohmann::ordered_json r = params_to_json(entry->info.params, network.topology_params);
    r["topology"] = network.topology;
    r["nic"] = network.nic.name;
    r["nics_per_node"] = network.nics_per_node;
    r["switch"] = network.switch_spec.name;
    choice.resolved["network"] = r;
  } else if (c.has("network")) {
    c.fail("network", "a one-node cluster has no network (GPUs of one node talk over its fabric): drop \"network\"");
  }
  if (c.has("placement")) {
    for (ConfigNode& replica : c.array("placement")) {
      std::vector<int64_t> gpus;
      for (std::size_t i = 0; i < replica.size(); ++i) {
        gpus.push_back(replica.element(i).as_integer(0, spec.nodes * node.gpus_per_node - 1));
      }
      choice.placement.push_back(std::move(gpus));
    }
    choice.resolved["placement"] = choice.placement;
  } else {
    choice.resolved["placement"] = "pack";
  }
  c.finish();
  return choice;
}

void use_cluster_network(const ClusterSpec& cluster, FabricSpec& fabric) {
  if (cluster.nodes <= 1) return;
  constexpr double kBusEfficiency = 0.8;
  fabric.inter_node_send_recv_bytes_per_s = kBusEfficiency * cluster.network.nic.bytes_per_s;
  fabric.inter_node_send_recv_latency_s = cluster.network.nic.latency_s + cluster.network.switch_spec.latency_s;
  fabric.inter_node_allreduce_bus_bytes_per_s = 0.0;  // from the send/recv numbers above
  fabric.inter_node_allreduce_latency_s = 0.0;
  fabric.inter_node_nics_per_node = cluster.network.nics_per_node;
}

namespace {

// Refuses a placement whose shape the execution model would not price: it costs a stage's collectives
// and the sends between stages from the packed layout (a stage of S GPUs on max(1, S / per_node) nodes,
// S / nodes on each; boundary k -> k + 1 between nodes exactly when packed GPUs kS - 1 and kS are).
void check_priced_shape(const std::vector<int64_t>& gpus, int64_t stage, int64_t per_node, const std::string& file,
                        const std::string& where) {
  if (stage <= 0 || gpus.size() % static_cast<std::size_t>(stage) != 0) return;
  const std::size_t s = static_cast<std::size_t>(stage);
  const int64_t nodes = stage > per_node ? stage / per_node : 1;
  for (std::size_t k = 0; k * s < gpus.size(); ++k) {
    std::map<int64_t, int64_t> on_node;
    for (std::size_t i = k * s; i < (k + 1) * s; ++i) ++on_node[gpus[i] / per_node];
    const bool even = std::all_of(on_node.begin(), on_node.end(), [&](const auto& n) { return n.second == stage / nodes; });
    if (static_cast<int64_t>(on_node.size()) != nodes || !even) {
      throw ConfigError::at_pointer(
          file, where,
          "stage " + std::to_string(k) + "'s " + std::to_string(stage) + " GPUs sit on " + std::to_string(on_node.size()) +
              " nodes; a stage is priced on " + std::to_string(nodes) + " node" + (nodes > 1 ? "s" : "") + " (" +
              std::to_string(stage / nodes) + " GPUs each, as packed): other spreads are not modelled");
    }
    if ((k + 1) * s < gpus.size()) {
      const bool crosses = gpus[(k + 1) * s - 1] / per_node != gpus[(k + 1) * s] / per_node;
      const auto last = static_cast<int64_t>((k + 1) * s - 1);
      if (crosses != (last / per_node != (last + 1) / per_node)) {
        throw ConfigError::at_pointer(file, where,
                                      "stages " + std::to_string(k) + " and " + std::to_string(k + 1) +
                                          (crosses ? " are on different nodes" : " share a node") +
                                          "; their send is priced as packed, where they " +
                                          (crosses ? "share a node" : "are on different nodes") +
                                          ": other layouts are not modelled");
      }
    }
  }
}

}  // namespace

std::vector<std::vector<int64_t>> place_replicas(const ClusterChoice& cluster, const std::vector<int64_t>& gpus,
                                                 const std::vector<int64_t>& stage_gpus, const std::string& file) {
  const int64_t per_node = cluster.spec.node.gpus_per_node;
  const int64_t total = cluster.spec.nodes * per_node;
  if (!cluster.placement.empty()) {
    if (cluster.placement.size() != gpus.size()) {
      throw ConfigError::at_pointer(file, "/cluster/placement",
                                    "lists " + std::to_string(cluster.placement.size()) + " replicas; the plan has " +
                                        std::to_string(gpus.size()));
    }
    std::set<int64_t> used;
    for (std::size_t r = 0; r < gpus.size(); ++r) {
      const std::string where = "/cluster/placement/" + std::to_string(r);
      if (static_cast<int64_t>(cluster.placement[r].size()) != gpus[r]) {
        throw ConfigError::at_pointer(file, where,
                                      "lists " + std::to_string(cluster.placement[r].size()) +
                                          " GPUs; replica " + std::to_string(r) + " runs on " +
                                          std::to_string(gpus[r]));
      }
      for (int64_t g : cluster.placement[r]) {
        if (!used.insert(g).second) {
          throw ConfigError::at_pointer(file, where, "GPU " + std::to_string(g) + " is given to two replicas");
        }
      }
      if (r < stage_gpus.size()) check_priced_shape(cluster.placement[r], stage_gpus[r], per_node, file, where);
    }
    return cluster.placement;
  }
  std::vector<std::vector<int64_t>> placed;
  int64_t next = 0;
  for (int64_t n : gpus) {
    if (n <= per_node && next % per_node + n > per_node) next = (next / per_node + 1) * per_node;  // no straddling
    if (n > per_node && next % per_node != 0) next = (next / per_node + 1) * per_node;              // whole nodes
    if (next + n > total) {
      int64_t needed = 0;
      for (int64_t m : gpus) needed += m;
      throw ConfigError::at_pointer(file, "/cluster/nodes",
                                    "the plan's " + std::to_string(gpus.size()) + " replicas (" +
                                        std::to_string(needed) + " GPUs) do not fit on " +
                                        std::to_string(cluster.spec.nodes) + " nodes of " +
                                        std::to_string(per_node) + " GPUs packed node by node");
    }
    std::vector<int64_t> list;
    for (int64_t k = 0; k < n; ++k) list.push_back(next + k);
    next += n;
    placed.push_back(std::move(list));
  }
  return placed;
}

}  // namespace servesim

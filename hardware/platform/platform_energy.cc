#include "hardware/platform/platform_energy.h"

#include <algorithm>

namespace servesim {
namespace {

double at(const std::vector<double>& values, std::size_t i) { return i < values.size() ? values[i] : 0.0; }

// `count` devices of one kind: idle for the whole run, plus (active - idle) x their busy-equivalent seconds.
void add_device(PlatformEnergy& out, const char* device, const std::string& what, int64_t count,
                const DevicePower& power, double busy_equivalent_s, double t) {
  if (count <= 0) return;
  if (!power.given()) {
    out.not_given.push_back(std::string(device) + (what.empty() ? "" : " " + what));
    return;
  }
  out.devices.push_back({device, count, static_cast<double>(count) * power.idle_w * t,
                         (power.active_w - power.idle_w) * busy_equivalent_s});
}

double ssd_seconds(const SsdSpec& ssd, double read_bytes, double write_bytes) {
  return read_bytes / ssd.read_bytes_per_s + write_bytes / ssd.write_bytes_per_s;
}

// Host CPU sockets of `nodes` nodes (busy cores, the rest idle) and their DRAM (idle, plus the
// host links' bytes that stay in it: those not going on to a CXL expander).
void add_cpu_and_dram(const NodeSpec& node, int64_t nodes, int64_t busy_cores, double host_bytes, double cxl_bytes,
                      double t, PlatformEnergy& out) {
  const HostCpuSpec& cpu = node.cpu;
  if (cpu.socket_power.given()) {
    const int64_t sockets = nodes * cpu.sockets;
    const int64_t cores = std::min(busy_cores, sockets * cpu.cores_per_socket);
    const double core_w = (cpu.socket_power.active_w - cpu.socket_power.idle_w) / static_cast<double>(cpu.cores_per_socket);
    out.devices.push_back({"cpu", sockets, static_cast<double>(sockets) * cpu.socket_power.idle_w * t,
                           static_cast<double>(cores) * core_w * t});
  } else {
    out.not_given.push_back("cpu " + cpu.name);
  }
  if (cpu.memory.idle_w > 0.0 || cpu.memory.access_j_per_byte > 0.0) {
    out.devices.push_back({"dram", nodes, static_cast<double>(nodes) * cpu.memory.idle_w * t,
                           cpu.memory.access_j_per_byte * std::max(0.0, host_bytes - cxl_bytes)});
  } else {
    out.not_given.push_back("dram of " + cpu.name);
  }
}

void add_cxl_and_ssd(const NodeSpec& node, int64_t cxl_devices, double cxl_bytes, int64_t ssds, double ssd_busy_s,
                     double t, PlatformEnergy& out) {
  // Striped devices share the bytes: their busy-equivalent seconds sum to one device's time for all of them.
  add_device(out, "cxl", "", cxl_devices * node.cxl.devices, node.cxl.power, cxl_bytes / (2.0 * node.cxl.bytes_per_s), t);
  add_device(out, "ssd", "", ssds * node.ssd.devices, node.ssd.power, ssd_busy_s, t);
}

}  // namespace

double PlatformEnergy::total_j() const {
  double sum = 0.0;
  for (const DeviceEnergy& d : devices) sum += d.total_j();
  return sum;
}

PlatformEnergy platform_energy(const ClusterPlatform& platform, const ClusterSpec& cluster,
                               const PlatformActivity& activity) {
  PlatformEnergy out;
  const double t = activity.duration_s;
  const std::vector<double>& bytes = activity.link_bytes;
  const NodeSpec& node = cluster.node;
  const int64_t nodes = platform.nodes();

  double host_bytes = 0.0, cxl_bytes = 0.0;
  for (int64_t g = 0; g < platform.gpus(); ++g) {
    host_bytes += at(bytes, platform.gpu_link(g, ClusterPlatform::GpuLink::kD2h)) +
                  at(bytes, platform.gpu_link(g, ClusterPlatform::GpuLink::kH2d));
  }
  for (int64_t n = 0; n < nodes && platform.has_cxl(); ++n) {
    cxl_bytes += at(bytes, platform.cxl_link(n, true)) + at(bytes, platform.cxl_link(n, false));
  }
  add_cpu_and_dram(node, nodes, activity.busy_cores, host_bytes, cxl_bytes, t, out);

  // NICs and switches (a cluster of one node has no network).
  if (nodes > 1) {
    const NicSpec& nic = cluster.network.nic;
    double nic_bytes = 0.0, sent = 0.0;
    for (int64_t i = 0; i < platform.nics(); ++i) {
      sent += at(bytes, platform.nic_link(i, true));
      nic_bytes += at(bytes, platform.nic_link(i, true)) + at(bytes, platform.nic_link(i, false));
    }
    add_device(out, "nic", nic.name, platform.nics(), nic.power, nic_bytes / (2.0 * nic.bytes_per_s), t);
    double entering = sent;
    for (std::size_t l = platform.network_links_begin(); l < bytes.size(); ++l) entering += bytes[l];
    const SwitchSpec& sw = cluster.network.switch_spec;
    const double ports = static_cast<double>(std::max<int64_t>(1, sw.ports));
    add_device(out, "switch", sw.name, platform.switches(), sw.power, entering / (ports * nic.bytes_per_s), t);
    if (!out.devices.empty() && out.devices.back().device == "switch") {
      // The cluster pays for the ports it occupies, not whole switches it shares with others.
      const double share = std::min(1.0, static_cast<double>(platform.topology().ports_used()) /
                                             (ports * static_cast<double>(platform.switches())));
      out.devices.back().idle_j *= share;
    }
  }

  double ssd_busy_s = 0.0;
  for (int64_t n = 0; n < nodes && platform.has_ssd(); ++n) {
    ssd_busy_s += ssd_seconds(node.ssd, at(activity.ssd_read_bytes, static_cast<std::size_t>(n)),
                              at(activity.ssd_write_bytes, static_cast<std::size_t>(n)));
  }
  add_cxl_and_ssd(node, platform.has_cxl() ? nodes : 0, cxl_bytes, platform.has_ssd() ? nodes : 0, ssd_busy_s, t, out);
  return out;
}

PlatformEnergy replicas_host_energy(const std::vector<ReplicaHostUse>& replicas, double duration_s) {
  // Replicas grouped by node kind, in order of first appearance.
  std::vector<const NodeSpec*> kinds;
  for (const ReplicaHostUse& r : replicas) {
    const bool known = std::any_of(kinds.begin(), kinds.end(), [&](const NodeSpec* k) { return k->name == r.node->name; });
    if (!known) kinds.push_back(r.node);
  }
  PlatformEnergy out;
  for (const NodeSpec* kind : kinds) {
    int64_t gpus = 0, busy_cores = 0, cxl_devices = 0, ssds = 0;
    double host_bytes = 0.0, cxl_bytes = 0.0, ssd_busy_s = 0.0;
    for (const ReplicaHostUse& r : replicas) {
      if (r.node->name != kind->name) continue;
      gpus += r.gpus;
      ++busy_cores;
      host_bytes += r.host_bytes;
      cxl_bytes += r.cxl_bytes;
      cxl_devices += r.has_cxl ? 1 : 0;
      ssds += r.has_ssd ? 1 : 0;
      if (r.has_ssd) ssd_busy_s += ssd_seconds(kind->ssd, r.ssd_read_bytes, r.ssd_write_bytes);
    }
    const int64_t per_node = std::max<int64_t>(1, kind->gpus_per_node);
    PlatformEnergy part;
    add_cpu_and_dram(*kind, (gpus + per_node - 1) / per_node, busy_cores, host_bytes, cxl_bytes, duration_s, part);
    add_cxl_and_ssd(*kind, cxl_devices, cxl_bytes, ssds, ssd_busy_s, duration_s, part);
    for (const DeviceEnergy& d : part.devices) {
      auto same = std::find_if(out.devices.begin(), out.devices.end(), [&](const DeviceEnergy& e) { return e.device == d.device; });
      if (same == out.devices.end()) {
        out.devices.push_back(d);
      } else {
        same->count += d.count;
        same->idle_j += d.idle_j;
        same->active_j += d.active_j;
      }
    }
    out.not_given.insert(out.not_given.end(), part.not_given.begin(), part.not_given.end());
  }
  // Devices in the fixed order (cpu, dram, cxl, ssd) whatever the kinds' order.
  const std::vector<std::string> order = {"cpu", "dram", "cxl", "ssd"};
  std::stable_sort(out.devices.begin(), out.devices.end(), [&](const DeviceEnergy& a, const DeviceEnergy& b) {
    return std::find(order.begin(), order.end(), a.device) < std::find(order.begin(), order.end(), b.device);
  });
  return out;
}

}  // namespace servesim

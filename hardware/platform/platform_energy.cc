#include "hardware/platform/platform_energy.h"

#include <algorithm>

namespace servesim {
namespace {

double at(const std::vector<double>& values, std::size_t i) { return i < values.size() ? values[i] : 0.0; }

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
  auto add = [&](const char* device, const std::string& what, int64_t count, const DevicePower& power,
                 double busy_equivalent_s) {
    if (count <= 0) return;
    if (!power.given()) {
      out.not_given.push_back(std::string(device) + (what.empty() ? "" : " " + what));
      return;
    }
    out.devices.push_back({device, count, static_cast<double>(count) * power.idle_w * t,
                           (power.active_w - power.idle_w) * busy_equivalent_s});
  };

  // Host CPU sockets: one busy core per replica, the rest idle.
  const HostCpuSpec& cpu = node.cpu;
  if (cpu.socket_power.given()) {
    const int64_t sockets = nodes * cpu.sockets;
    const int64_t cores = std::min(activity.busy_cores, sockets * cpu.cores_per_socket);
    const double core_w = (cpu.socket_power.active_w - cpu.socket_power.idle_w) / static_cast<double>(cpu.cores_per_socket);
    out.devices.push_back({"cpu", sockets, static_cast<double>(sockets) * cpu.socket_power.idle_w * t,
                           static_cast<double>(cores) * core_w * t});
  } else {
    out.not_given.push_back("cpu " + cpu.name);
  }

  // Host DRAM: the host links' bytes that stay in it.
  double host_bytes = 0.0, cxl_bytes = 0.0;
  for (int64_t g = 0; g < platform.gpus(); ++g) {
    host_bytes += at(bytes, platform.gpu_link(g, ClusterPlatform::GpuLink::kD2h)) +
                  at(bytes, platform.gpu_link(g, ClusterPlatform::GpuLink::kH2d));
  }
  for (int64_t n = 0; n < nodes && platform.has_cxl(); ++n) {
    cxl_bytes += at(bytes, platform.cxl_link(n, true)) + at(bytes, platform.cxl_link(n, false));
  }
  if (cpu.memory_idle_w > 0.0 || cpu.memory_access_j_per_byte > 0.0) {
    out.devices.push_back({"dram", nodes, static_cast<double>(nodes) * cpu.memory_idle_w * t,
                           cpu.memory_access_j_per_byte * std::max(0.0, host_bytes - cxl_bytes)});
  } else {
    out.not_given.push_back("dram of " + cpu.name);
  }

  // NICs and switches (a cluster of one node has no network).
  if (nodes > 1) {
    const NicSpec& nic = cluster.network.nic;
    double nic_bytes = 0.0, sent = 0.0;
    for (int64_t i = 0; i < platform.nics(); ++i) {
      sent += at(bytes, platform.nic_link(i, true));
      nic_bytes += at(bytes, platform.nic_link(i, true)) + at(bytes, platform.nic_link(i, false));
    }
    add("nic", nic.name, platform.nics(), nic.power, nic_bytes / (2.0 * nic.bytes_per_s));
    double entering = sent;
    for (std::size_t l = platform.network_links_begin(); l < bytes.size(); ++l) entering += bytes[l];
    const SwitchSpec& sw = cluster.network.switch_spec;
    const double ports = static_cast<double>(std::max<int64_t>(1, sw.ports));
    add("switch", sw.name, platform.switches(), sw.power, entering / (ports * nic.bytes_per_s));
    if (!out.devices.empty() && out.devices.back().device == "switch") {
      // The cluster pays for the ports it occupies, not whole switches it shares with others.
      const double share = std::min(1.0, static_cast<double>(platform.topology().ports_used()) /
                                             (ports * static_cast<double>(platform.switches())));
      out.devices.back().idle_j *= share;
    }
  }

  if (platform.has_cxl()) add("cxl", "", nodes, node.cxl.power, cxl_bytes / (2.0 * node.cxl.bytes_per_s));
  if (platform.has_ssd()) {
    double busy = 0.0;
    for (int64_t n = 0; n < nodes; ++n) {
      busy += at(activity.ssd_read_bytes, static_cast<std::size_t>(n)) / node.ssd.read_bytes_per_s +
              at(activity.ssd_write_bytes, static_cast<std::size_t>(n)) / node.ssd.write_bytes_per_s;
    }
    add("ssd", "", nodes, node.ssd.power, busy);
  }
  return out;
}

}  // namespace servesim

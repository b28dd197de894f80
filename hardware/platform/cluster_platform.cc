#include "hardware/platform/cluster_platform.h"

#include <algorithm>
#include <stdexcept>

#include "sim/core/registry.h"

namespace servesim {

// Link indices are laid out per GPU, then per NIC, then per node, then per host switch, then the
// topology's: GPU g: 4g + {0 fabric up, 1 fabric down, 2 d2h, 3 h2d}; NIC i: 4G + 2i + {0 tx, 1 rx};
// node n: 4G + 2I + 2n + {0 CXL write, 1 CXL read} (when CXL exists); host switch s (GPUs
// s x k .. s x k + k - 1 when k = gpus_per_host_switch > 1): base + 2s + {0 uplink to the CPU, 1 down}.
class ClusterPlatform::Routes : public RouteSource {
 public:
  Routes(int64_t nodes, int64_t gpus_per_node, int64_t nics_per_node, int64_t endpoints_per_node, bool cxl,
         int64_t gpus_per_host_switch, std::shared_ptr<const NetworkTopology> topology)
      : nodes_(nodes), gpn_(gpus_per_node), nics_(nics_per_node), epn_(endpoints_per_node), cxl_(cxl),
        per_switch_(gpus_per_host_switch), topology_(std::move(topology)) {}

  void route(std::size_t src, std::size_t dst, std::vector<std::size_t>& links) const override {
    const auto a = static_cast<int64_t>(src), b = static_cast<int64_t>(dst);
    const int64_t node_a = a / epn_, node_b = b / epn_;
    const int64_t local_a = a % epn_, local_b = b % epn_;
    const bool gpu_a = local_a < gpn_, gpu_b = local_b < gpn_;
    const std::size_t gpus = static_cast<std::size_t>(nodes_ * gpn_);
    if (gpu_a && gpu_b) {
      const int64_t ga = node_a * gpn_ + local_a, gb = node_b * gpn_ + local_b;
      if (ga == gb) throw std::invalid_argument("no route from a GPU to itself");
      if (node_a == node_b) {
        links.push_back(gpu_link(ga, 0));
        links.push_back(gpu_link(gb, 1));
        return;
      }
      const int64_t na = nic(ga), nb = nic(gb);
      links.push_back(4 * gpus + 2 * static_cast<std::size_t>(na));
      topology_->route(na, nb, links);
      links.push_back(4 * gpus + 2 * static_cast<std::size_t>(nb) + 1);
      return;
    }
    if (node_a != node_b) throw std::invalid_argument("no route between a host and another node");
    const std::size_t cxl_base = 4 * gpus + 2 * static_cast<std::size_t>(nodes_ * nics_) + 2 * static_cast<std::size_t>(node_a);
    // Host switch uplinks follow the CXL links (or the NICs' without CXL).
    const std::size_t switch_base = 4 * gpus + 2 * static_cast<std::size_t>(nodes_ * nics_) +
                                    (cxl_ ? 2 * static_cast<std::size_t>(nodes_) : 0);
    auto up_to_host = [&](int64_t gpu) {
      links.push_back(gpu_link(gpu, 2));
      if (per_switch_ > 1) links.push_back(switch_base + 2 * static_cast<std::size_t>(gpu / per_switch_));
    };
    auto down_from_host = [&](int64_t gpu) {
      if (per_switch_ > 1) links.push_back(switch_base + 2 * static_cast<std::size_t>(gpu / per_switch_) + 1);
      links.push_back(gpu_link(gpu, 3));
    };
    if (gpu_a && local_b == gpn_) {  // GPU -> host
      up_to_host(node_a * gpn_ + local_a);
    } else if (local_a == gpn_ && gpu_b) {  // host -> GPU
      down_from_host(node_b * gpn_ + local_b);
    } else if (cxl_ && gpu_a && local_b == gpn_ + 1) {  // GPU -> CXL through the host
      up_to_host(node_a * gpn_ + local_a);
      links.push_back(cxl_base);
    } else if (cxl_ && local_a == gpn_ + 1 && gpu_b) {
      links.push_back(cxl_base + 1);
      down_from_host(node_b * gpn_ + local_b);
    } else {
      throw std::invalid_argument("no route between these endpoints");
    }
  }

 private:
  std::size_t gpu_link(int64_t gpu, int64_t which) const { return static_cast<std::size_t>(4 * gpu + which); }
  int64_t nic(int64_t gpu) const { return (gpu / gpn_) * nics_ + (gpu % gpn_) * nics_ / gpn_; }

  int64_t nodes_, gpn_, nics_, epn_;
  bool cxl_;
  int64_t per_switch_;
  std::shared_ptr<const NetworkTopology> topology_;
};

namespace {
bool positive(double x) { return x > 0.0; }
}  // namespace

ClusterPlatform::ClusterPlatform(const ClusterSpec& cluster)
    : nodes_(cluster.nodes), gpus_per_node_(cluster.node.gpus_per_node) {
  const NodeSpec& node = cluster.node;
  if (nodes_ < 1 || gpus_per_node_ < 1) throw std::invalid_argument("a cluster needs nodes and GPUs");
  nics_per_node_ = cluster.network.nics_per_node > 0 ? cluster.network.nics_per_node : gpus_per_node_;
  if (nodes_ > 1 && !positive(cluster.network.nic.bytes_per_s)) {
    throw std::invalid_argument("a cluster of several nodes needs its NICs' bandwidth");
  }
  if (!positive(node.fabric.bytes_per_s) && gpus_per_node_ > 1) {
    throw std::invalid_argument("a node of several GPUs needs its fabric's bandwidth");
  }
  has_cxl_ = node.cxl.capacity_bytes > 0.0;
  has_ssd_ = node.ssd.capacity_bytes > 0.0;
  endpoints_per_node_ = gpus_per_node_ + 1 + (has_cxl_ ? 1 : 0);
  const auto* entry = Registry<NetworkTopology>::instance().find(cluster.network.topology);
  if (entry == nullptr) throw std::invalid_argument("unknown network topology '" + cluster.network.topology + "'");
  topology_ = entry->factory(cluster.network.topology_params);

  const int64_t gpus_total = nodes_ * gpus_per_node_;
  spec_.endpoints.reserve(static_cast<std::size_t>(nodes_ * endpoints_per_node_));
  for (int64_t n = 0; n < nodes_; ++n) {
    const std::string prefix = "n" + std::to_string(n) + ".";
    for (int64_t g = 0; g < gpus_per_node_; ++g) spec_.endpoints.push_back(prefix + "gpu" + std::to_string(g));
    spec_.endpoints.push_back(prefix + "host");
    if (has_cxl_) spec_.endpoints.push_back(prefix + "cxl");
    if (has_ssd_) {
      spec_.disks.push_back(
          {prefix + "ssd", prefix + "host", node.ssd.total_read_bytes_per_s(), node.ssd.total_write_bytes_per_s()});
    }
  }
  // A link needs a positive bandwidth: a GPU without a fabric (one per node) or host link gets a
  // placeholder no route of a real transfer crosses (routes refuse such pairs upstream).
  const double fabric = positive(node.fabric.bytes_per_s) ? node.fabric.bytes_per_s : 1.0;
  const double d2h = positive(node.host_link.d2h_bytes_per_s) ? node.host_link.d2h_bytes_per_s : 1.0;
  const double h2d = positive(node.host_link.h2d_bytes_per_s) ? node.host_link.h2d_bytes_per_s : 1.0;
  spec_.links.reserve(static_cast<std::size_t>(4 * gpus_total + 2 * nodes_ * nics_per_node_ + 2 * nodes_));
  for (int64_t g = 0; g < gpus_total; ++g) {
    const std::string prefix = "n" + std::to_string(g / gpus_per_node_) + ".gpu" + std::to_string(g % gpus_per_node_);
    // The fabric latency is paid once per GPU-to-GPU route: on the way in.
    spec_.links.push_back({prefix + ".fabric_up", fabric, 0.0});
    spec_.links.push_back({prefix + ".fabric_down", fabric, node.fabric.latency_s});
    spec_.links.push_back({prefix + ".d2h", d2h, node.host_link.latency_s});
    spec_.links.push_back({prefix + ".h2d", h2d, node.host_link.latency_s});
  }
  const NicSpec& nic = cluster.network.nic;
  const double nic_bytes = positive(nic.bytes_per_s) ? nic.bytes_per_s : 1.0;
  for (int64_t i = 0; i < nodes_ * nics_per_node_; ++i) {
    const std::string prefix = "n" + std::to_string(i / nics_per_node_) + ".nic" + std::to_string(i % nics_per_node_);
    // Out of the NIC into its first switch: adapter latency + one switch hop.
    spec_.links.push_back({prefix + ".tx", nic_bytes, nic.latency_s + cluster.network.switch_spec.latency_s});
    spec_.links.push_back({prefix + ".rx", nic_bytes, 0.0});
  }
  for (int64_t n = 0; n < nodes_ && has_cxl_; ++n) {
    const std::string prefix = "n" + std::to_string(n) + ".cxl";
    spec_.links.push_back({prefix + ".write", node.cxl.total_bytes_per_s(), node.cxl.latency_s});
    spec_.links.push_back({prefix + ".read", node.cxl.total_bytes_per_s(), node.cxl.latency_s});
  }
  // PCIe switches shared by GPUs on their way to the host: one uplink each way of the host link's bandwidth.
  gpus_per_host_switch_ = std::max<int64_t>(1, node.gpus_per_host_switch);
  if (gpus_per_node_ % gpus_per_host_switch_ != 0) throw std::invalid_argument("host switches must divide a node's GPUs");
  for (int64_t s = 0; gpus_per_host_switch_ > 1 && s < gpus_total / gpus_per_host_switch_; ++s) {
    const std::string prefix = "n" + std::to_string(s * gpus_per_host_switch_ / gpus_per_node_) + ".pcie_switch" +
                               std::to_string(s % (gpus_per_node_ / gpus_per_host_switch_));
    spec_.links.push_back({prefix + ".up", d2h, 0.0});
    spec_.links.push_back({prefix + ".down", h2d, 0.0});
  }
  NetworkShape shape;
  shape.nodes = nodes_;
  shape.nics_per_node = nics_per_node_;
  shape.nic_bytes_per_s = nic_bytes;
  shape.switch_latency_s = cluster.network.switch_spec.latency_s;
  topology_->build(shape, spec_.links);
  spec_.route_source = std::make_shared<Routes>(nodes_, gpus_per_node_, nics_per_node_, endpoints_per_node_, has_cxl_,
                                                gpus_per_host_switch_, topology_);
}

std::size_t ClusterPlatform::gpu_endpoint(int64_t gpu) const {
  if (gpu < 0 || gpu >= gpus()) throw std::invalid_argument("GPU index out of range");
  return static_cast<std::size_t>(node_of(gpu) * endpoints_per_node_ + gpu % gpus_per_node_);
}

std::size_t ClusterPlatform::host_endpoint(int64_t node) const {
  return static_cast<std::size_t>(node * endpoints_per_node_ + gpus_per_node_);
}

std::size_t ClusterPlatform::cxl_endpoint(int64_t node) const {
  if (!has_cxl_) throw std::invalid_argument("the node has no CXL memory");
  return static_cast<std::size_t>(node * endpoints_per_node_ + gpus_per_node_ + 1);
}

std::string ClusterPlatform::ssd_disk(int64_t node) const {
  if (!has_ssd_) throw std::invalid_argument("the node has no SSD");
  return "n" + std::to_string(node) + ".ssd";
}

int64_t ClusterPlatform::nic_of(int64_t gpu) const {
  return node_of(gpu) * nics_per_node_ + (gpu % gpus_per_node_) * nics_per_node_ / gpus_per_node_;
}

}  // namespace servesim

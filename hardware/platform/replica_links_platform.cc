#include "hardware/platform/replica_links_platform.h"

#include <algorithm>
#include <stdexcept>

namespace servesim {
namespace {

bool has_both_directions(const HostLinkSpec& link) { return link.d2h_bytes_per_s > 0.0 && link.h2d_bytes_per_s > 0.0; }

}  // namespace

HostLinkSpec replica_host_link(const NodeSpec& node, int64_t gpus) {
  const int64_t per_switch = std::max<int64_t>(1, node.gpus_per_host_switch);
  const int64_t links = (std::max<int64_t>(1, gpus) + per_switch - 1) / per_switch;
  HostLinkSpec link = node.host_link;
  link.d2h_bytes_per_s *= static_cast<double>(links);
  link.h2d_bytes_per_s *= static_cast<double>(links);
  return link;
}

std::size_t ReplicaLinksPlatform::add_endpoint(const std::string& name) {
  spec_.endpoints.push_back(name);
  return spec_.endpoints.size() - 1;
}

std::size_t ReplicaLinksPlatform::add_link(const std::string& name, double bytes_per_s, double latency_s) {
  spec_.links.push_back({name, bytes_per_s, latency_s});
  return spec_.links.size() - 1;
}

std::string ReplicaLinksPlatform::suffix(std::size_t replica) const {
  return gpu_.size() == 1 ? "" : std::to_string(replica);
}

ReplicaLinksPlatform::ReplicaLinksPlatform(const ReplicaLinksSpec& spec) {
  const std::size_t replicas = spec.host_links.size();
  if (replicas == 0) throw std::invalid_argument("a platform needs at least one replica");
  gpu_.resize(replicas);  // suffix() needs the count
  has_ssd_ = spec.offload == OffloadDevice::kSsd;
  for (std::size_t i = 0; i < replicas; ++i) {
    const std::string n = suffix(i);
    const HostLinkSpec& link = spec.host_links[i];
    gpu_[i] = add_endpoint("gpu" + n);
    host_.push_back(add_endpoint("host" + n));
    offload_.push_back(host_.back());
    d2h_.push_back(kNoLink);
    h2d_.push_back(kNoLink);
    cxl_w_.push_back(kNoLink);
    cxl_r_.push_back(kNoLink);
    if (!has_both_directions(link)) continue;
    d2h_[i] = add_link("d2h" + n, link.d2h_bytes_per_s, link.latency_s);
    h2d_[i] = add_link("h2d" + n, link.h2d_bytes_per_s, link.latency_s);
    spec_.routes.push_back({"gpu" + n, "host" + n, {"d2h" + n}, false});
    spec_.routes.push_back({"host" + n, "gpu" + n, {"h2d" + n}, false});
    if (spec.offload == OffloadDevice::kCxl) {
      offload_[i] = add_endpoint("cxl" + n);
      cxl_w_[i] = add_link("cxl_w" + n, spec.cxl.total_bytes_per_s(), spec.cxl.latency_s);
      cxl_r_[i] = add_link("cxl_r" + n, spec.cxl.total_bytes_per_s(), spec.cxl.latency_s);
      spec_.routes.push_back({"gpu" + n, "cxl" + n, {"d2h" + n, "cxl_w" + n}, false});
      spec_.routes.push_back({"cxl" + n, "gpu" + n, {"cxl_r" + n, "h2d" + n}, false});
    } else if (spec.offload == OffloadDevice::kSsd) {
      spec_.disks.push_back({"ssd" + n, "host" + n, spec.ssd.total_read_bytes_per_s(), spec.ssd.total_write_bytes_per_s()});
    }
  }
  // Disaggregation: out of prefill replica p over kv_tx<p>, into decode replica d over kv_rx<d>.
  const auto prefill = static_cast<std::size_t>(std::max<int64_t>(0, spec.prefill_replicas));
  if (prefill == 0) return;
  if (prefill >= replicas) throw std::invalid_argument("disaggregation needs prefill and decode replicas");
  for (std::size_t i = 0; i < replicas; ++i) {
    const std::string n = std::to_string(i);
    add_link(i < prefill ? "kv_tx" + n : "kv_rx" + n, spec.kv_link_bytes_per_s, i < prefill ? spec.kv_link_latency_s : 0.0);
  }
  for (std::size_t p = 0; p < prefill; ++p) {
    for (std::size_t q = prefill; q < replicas; ++q) {
      const std::string a = std::to_string(p), b = std::to_string(q);
      spec_.routes.push_back({"gpu" + a, "gpu" + b, {"kv_tx" + a, "kv_rx" + b}, false});
    }
  }
}

std::string ReplicaLinksPlatform::ssd_disk(std::size_t replica) const {
  if (!has_ssd_ || !has_host_link(replica)) throw std::invalid_argument("the replica has no SSD");
  return "ssd" + suffix(replica);
}

}  // namespace servesim

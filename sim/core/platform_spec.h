#pragma once
// Contract: a plain description of what bytes can move between: endpoints (a GPU,
// a host's memory, a NIC), links with bandwidth and latency, the links each
// route crosses (listed, or computed on demand by a RouteSource), and disks
// attached to endpoints. Built by hardware code from
// the hardware description; turned into a SimGrid platform by Engine. No
// SimGrid types here. Units: bytes per second, seconds.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace servesim {

/// Routes of a platform too large to list pair by pair (a cluster): asked on demand for the
/// links from endpoint `src` to endpoint `dst` (indices into PlatformSpec::endpoints and
/// ::links). Deterministic and cheap (arithmetic on the topology); throws
/// std::invalid_argument for a pair that has no route.
class RouteSource {
 public:
  virtual ~RouteSource() = default;
  virtual void route(std::size_t src, std::size_t dst, std::vector<std::size_t>& links) const = 0;
};

struct PlatformSpec {
  struct Link {
    std::string name;
    double bytes_per_s = 0.0;
    double latency_s = 0.0;
  };
  struct Route {
    std::string src;
    std::string dst;
    std::vector<std::string> links;
    /// Same links used for dst -> src. Asymmetric couplings (separate H2D and
    /// D2H lanes) declare two routes with symmetric = false.
    bool symmetric = true;
  };
  struct Disk {
    std::string name;
    std::string endpoint;
    double read_bytes_per_s = 0.0;
    double write_bytes_per_s = 0.0;
  };

  std::vector<std::string> endpoints;
  std::vector<Link> links;
  std::vector<Route> routes;
  std::vector<Disk> disks;
  /// Set: every route comes from here and `routes` must be empty.
  std::shared_ptr<const RouteSource> route_source;
};

}  // namespace servesim

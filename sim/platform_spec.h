#pragma once
// Contract: a plain description of what bytes can move between: endpoints (a GPU,
// a host's memory, a NIC), links with bandwidth and latency, the links each
// route crosses, and disks attached to endpoints. Built by hardware code from
// the hardware description; turned into a SimGrid platform by Engine. No
// SimGrid types here. Units: bytes per second, seconds.

#include <string>
#include <vector>

namespace servesim {

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
};

}  // namespace servesim

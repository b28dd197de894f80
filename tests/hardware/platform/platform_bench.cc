// Prints how long building a cluster platform (and the engine's SimGrid platform on it) takes
// and how long the first flows take to route, for 64 to 4,096 GPUs on a rail-optimized fat tree.
// Not a test: a table. One engine per process (SimGrid), so each size runs in a child process.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hardware/platform/cluster_platform.h"
#include "sim/core/engine.h"
#include "sim/core/registry.h"

namespace {

using servesim::ClusterPlatform;
using servesim::ClusterSpec;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void measure(int64_t nodes) {
  ClusterSpec c;
  c.node.gpus_per_node = 8;
  c.node.fabric.bytes_per_s = 450e9;
  c.node.host_link = {"pcie", 64e9, 64e9, 1e-6};
  c.nodes = nodes;
  c.network.topology = "rail-optimized";
  const auto* entry = servesim::Registry<servesim::NetworkTopology>::instance().find(c.network.topology);
  c.network.topology_params = servesim::default_params(entry->info.params);
  c.network.topology_params.set("nodes_per_leaf", int64_t{32});
  c.network.nic = {"cx7", 50e9, 2e-6};
  c.network.switch_spec = {"qm9700", 0.5e-6, 64};
  const auto t0 = std::chrono::steady_clock::now();
  const ClusterPlatform platform(c);
  const double build_s = seconds_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  servesim::Engine engine(platform.spec());
  const double engine_s = seconds_since(t1);
  const auto t2 = std::chrono::steady_clock::now();
  const int64_t gpus = platform.gpus();
  for (int64_t g = 0; g < gpus; ++g) {  // a ring across the whole cluster
    engine.transfer(static_cast<int>(platform.gpu_endpoint(g)), static_cast<int>(platform.gpu_endpoint((g + 8) % gpus)),
                    1e6, [] {});
  }
  engine.run();
  const double flows_s = seconds_since(t2);
  std::printf("| %5lld | %6zu | %6zu | %8.4f | %9.4f | %12.4f |\n", static_cast<long long>(gpus),
              platform.spec().endpoints.size(), platform.spec().links.size(), build_s, engine_s, flows_s);
}

}  // namespace

int main() {
  std::printf("| GPUs | endpoints | links | build (s) | engine (s) | one flow per GPU (s) |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|\n");
  for (int64_t nodes : {8, 32, 128, 512}) {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child == 0) {
      measure(nodes);
      std::fflush(stdout);
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
  }
  return 0;
}

// single-switch: every NIC on one non-blocking switch (a small cluster, or a
// first-order model of a large one): flows contend only on the NICs' own links.
#include "hardware/platform/network_topology.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

class SingleSwitch : public NetworkTopology {
 public:
  void build(const NetworkShape& shape, std::vector<PlatformSpec::Link>& /*links*/) override {
    nics_ = shape.nodes * shape.nics_per_node;
  }
  void route(int64_t /*a*/, int64_t /*b*/, std::vector<std::size_t>& /*links*/) const override {}
  int64_t hops(int64_t /*a*/, int64_t /*b*/) const override { return 1; }
  int64_t switches() const override { return 1; }
  int64_t ports_used() const override { return nics_; }

 private:
  int64_t nics_ = 0;
};

}  // namespace

SERVESIM_REGISTER(NetworkTopology, "single-switch",
                  "every NIC on one non-blocking switch: flows share only the NICs' links", ParamSpecs{},
                  [](const ParamValues&) { return std::make_unique<SingleSwitch>(); });

}  // namespace servesim

// round-robin: request k goes to replica k mod N, whatever the load.
#include "models/router/router.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

class RoundRobinRouter final : public Router {
 public:
  int route(const RoutedRequest&, const RouterView& view) override {
    const int replica = next_;
    next_ = (next_ + 1) % view.replica_count();
    return replica;
  }

 private:
  int next_ = 0;
};

SERVESIM_REGISTER(Router, "round-robin", "request k goes to replica k mod dp, regardless of load (default)", {},
                  [](const ParamValues&) { return std::make_unique<RoundRobinRouter>(); });

}  // namespace
}  // namespace servesim

// least-loaded: the replica with the fewest outstanding tokens (prompt tokens
// not yet prefilled + output tokens not yet generated, running and waiting);
// ties go to the lowest index.
#include "models/router/router.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

class LeastLoadedRouter final : public Router {
 public:
  int route(const RoutedRequest&, const RouterView& view) override { return least_loaded_replica(view); }
};

SERVESIM_REGISTER(Router, "least-loaded",
                  "fewest outstanding tokens (unprefilled prompt + ungenerated output, running and waiting); "
                  "ties to the lowest index",
                  {}, [](const ParamValues&) { return std::make_unique<LeastLoadedRouter>(); });

}  // namespace
}  // namespace servesim

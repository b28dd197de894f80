#include "models/router/router.h"

namespace servesim {

int least_loaded_replica(const RouterView& view, const std::vector<char>& eligible) {
  int best = -1;
  int64_t best_load = 0;
  for (int i = 0; i < view.replica_count(); ++i) {
    if (!eligible.empty() && eligible[static_cast<std::size_t>(i)] == 0) continue;
    const int64_t load = view.outstanding_tokens(i);
    if (best < 0 || load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

}  // namespace servesim

// prefix-aware: the replica whose KV cache holds the longest prefix of the
// request's prompt (asked of each replica's cache at arrival, so no global
// prefix index is kept); ties and requests with too short a hit go to the
// least-loaded replica. `balance_tokens` bounds the load a prefix hit may
// cost: if the best-hit replica has more than that many outstanding tokens
// above the least-loaded one, the request goes to the least-loaded one.
#include <algorithm>

#include "models/router/router.h"
#include "sim/registry.h"

namespace servesim {
namespace {

struct PrefixAwareParams {
  int64_t min_hit_tokens = 1;
  int64_t balance_tokens = 0;  // 0 = no bound
};

class PrefixAwareRouter final : public Router {
 public:
  explicit PrefixAwareRouter(const PrefixAwareParams& params) : params_(params) {}

  int route(const RoutedRequest&, const RouterView& view) override {
    const int n = view.replica_count();
    int64_t best_hit = 0;
    eligible_.assign(static_cast<std::size_t>(n), 0);
    hits_.resize(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const int64_t hit = view.cached_prefix_tokens(i);
      hits_[static_cast<std::size_t>(i)] = hit;
      best_hit = std::max(best_hit, hit);
    }
    if (best_hit < params_.min_hit_tokens) return least_loaded_replica(view);
    for (int i = 0; i < n; ++i) eligible_[static_cast<std::size_t>(i)] = hits_[static_cast<std::size_t>(i)] == best_hit;
    const int chosen = least_loaded_replica(view, eligible_);
    if (params_.balance_tokens > 0) {
      const int lightest = least_loaded_replica(view);
      if (view.outstanding_tokens(chosen) - view.outstanding_tokens(lightest) > params_.balance_tokens) return lightest;
    }
    return chosen;
  }

 private:
  PrefixAwareParams params_;
  std::vector<int64_t> hits_;
  std::vector<char> eligible_;
};

SERVESIM_REGISTER(Router, "prefix-aware",
                  "longest cached prompt prefix (asked of each replica's KV cache), else least-loaded",
                  (ParamSpecs{ParamSpec::integer("min_hit_tokens", 1, 1, int64_t{1} << 40,
                                                 "a cached prefix shorter than this is ignored (tokens)"),
                              ParamSpec::integer("balance_tokens", 0, 0, int64_t{1} << 40,
                                                 "go least-loaded instead if the best-hit replica has this many "
                                                 "more outstanding tokens (0 = no bound)")}),
                  [](const ParamValues& values) {
                    PrefixAwareParams p;
                    p.min_hit_tokens = values.integer("min_hit_tokens");
                    p.balance_tokens = values.integer("balance_tokens");
                    return std::make_unique<PrefixAwareRouter>(p);
                  });

}  // namespace
}  // namespace servesim

#pragma once
// Contract: a router picks, for each arriving request, the data-parallel
// replica that serves it. It is called once per request at the request's
// arrival time, in arrival order (same-time arrivals in trace order), and its
// choice is final: requests never move between replicas afterwards. It sees
// the replicas only through RouterView, a read-only window the serving run
// implements (load in tokens, cached prefix length per replica), so a router
// keeps no copy of any replica's state and its memory does not grow with the
// trace. It does not model network delay to the replica (routing is
// instantaneous). With prefill/decode disaggregation one router spreads
// arrivals over the prefill replicas and another (the decode router) picks
// each prefilled request's decode replica, when its first token is out.
// Deterministic: ties break towards the lowest replica index. Units: tokens.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sim/core/params.h"

namespace servesim {

/// What the router knows of the request being routed.
struct RoutedRequest {
  int64_t id = 0;
  double arrival_s = 0.0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t priority = 0;
};

/// The replicas as the router sees them (implemented by the serving run).
class RouterView {
 public:
  virtual ~RouterView() = default;
  /// Number of replicas (>= 1).
  virtual int replica_count() const = 0;
  /// Tokens still to process on `replica`: prompt tokens not yet prefilled plus output tokens
  /// not yet generated, over its running and waiting requests.
  virtual int64_t outstanding_tokens(int replica) const = 0;
  /// Leading prompt tokens of the request being routed whose KV is cached on `replica` now
  /// (0 without prefix caching or prefix information).
  virtual int64_t cached_prefix_tokens(int replica) const = 0;
  /// Chained hashes of the routed request's full prompt blocks that a prefix hit may cover
  /// (empty without prefix caching or prefix information); equal leading hashes = shared prefix.
  virtual const std::vector<uint64_t>& prompt_block_hashes() const = 0;
  /// Tokens per KV block (the same on every replica).
  virtual int64_t block_tokens() const = 0;
};

class Router {
 public:
  static constexpr const char* kInterfaceName = "router";
  static constexpr const char* kInterfaceSummary =
      "picks the data-parallel replica of each request at its arrival (\"router\": {\"impl\": NAME, ...}; "
      "default round-robin; used when plan.dp > 1; disaggregated runs also pick decode replicas with one: "
      "\"decode_router\", default least-loaded)";
  using Factory = std::function<std::unique_ptr<Router>(const ParamValues&)>;

  virtual ~Router() = default;
  /// The replica index in [0, view.replica_count()) that serves `request`.
  virtual int route(const RoutedRequest& request, const RouterView& view) = 0;
};

/// Replica with the fewest outstanding tokens among those where `eligible` holds (all when
/// empty); ties go to the lowest index. Returns -1 if none is eligible.
int least_loaded_replica(const RouterView& view, const std::vector<char>& eligible = {});

}  // namespace servesim

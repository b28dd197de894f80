#pragma once
// Contract: predicts one engine iteration (one forward pass over a batch) on one
// deployment (hardware + model + engine profile + parallelism plan): wall time
// on each GPU of the plan, its split into compute, communication and host
// overhead, energy of all GPUs of the plan, and a per-op breakdown with the
// provenance of each number. It does not decide what is in the batch (the
// scheduler does) nor move KV between tiers (the cache does). Deterministic:
// the same shape gives the same answer. Implementations may cache by shape.
// Units: seconds, joules, tokens.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/comm/collective_model.h"
#include "sim/core/params.h"

namespace servesim {

struct Deployment;

/// `sequences` sequences, each adding `new_tokens` tokens on top of `context_tokens`
/// already cached. ["prefill", B, S] = {B, S, 0}; ["decode", B, C] = {B, 1, C};
/// a chunk of a prompt after a prefix-cache hit is {1, chunk, hit + earlier chunks}.
struct Segment {
  int64_t sequences = 0;
  int64_t new_tokens = 0;
  int64_t context_tokens = 0;
};

struct BatchShape {
  std::vector<Segment> segments;
};

enum class Bound { kCompute, kMemory, kLatency, kCommunication, kHost };
enum class Provenance { kMeasured, kInterpolated, kDatasheet };

const char* bound_name(Bound bound);
const char* provenance_name(Provenance provenance);

struct OpCost {
  std::string name;
  int64_t count = 0;     // launches per iteration
  double seconds = 0.0;  // total over the count
  Bound bound = Bound::kCompute;
  Provenance provenance = Provenance::kDatasheet;
  std::string dtype;  // GEMMs: the compute dtype ("bf16", "fp8", ...); empty for other ops
};

/// Cheap result used inside simulations.
struct IterationTiming {
  double iteration_s = 0.0;  // one batch through every pipeline stage, end to end (sum of stages + sends)
  double energy_j = 0.0;     // all GPUs of the plan
  double clock_fraction = 1.0;  // SM clock / boost clock under the power limit (pipeline: the lowest stage's)
};

/// One batch stage by stage (pipeline-parallel plans): the host prepares it for
/// host_s (scheduling, input preparation: no stage is held), stage k computes
/// for stage_s[k], then its activations reach stage k + 1 after send_s[k].
/// iteration_s = host_s + sum(stage_s) + sum(send_s). Without PP: one stage
/// holding the whole iteration, host_s 0 and no send.
struct StageTimes {
  double host_s = 0.0;
  std::vector<double> stage_s;
  std::vector<double> send_s;      // stage_s.size() - 1 entries
  std::vector<double> send_bytes;  // what each send moves (between one GPU of each stage); as send_s
};

/// One kind of collective an iteration runs (plans without pipeline stages): `count` of them (one
/// per layer, say), each of `bytes` per GPU among `ranks` GPUs (a tensor-parallel group for
/// all-reduces, the whole stage for all-to-alls), priced at `seconds` in all inside timing().
struct CollectiveCall {
  Collective collective = Collective::kAllReduce;
  double bytes = 0.0;
  int64_t count = 0;
  int64_t ranks = 0;
  double seconds = 0.0;
  int64_t nodes = 1;  // the group spans this many nodes, ranks / nodes on each
};

/// Full result for `servesim step`.
struct IterationPrediction {
  double iteration_s = 0.0;  // end to end through every stage (= stage_s without PP)
  double stage_s = 0.0;      // the slowest pipeline stage (what bounds pipelined throughput)
  double compute_s = 0.0;
  double communication_s = 0.0;
  double host_s = 0.0;
  double energy_j = 0.0;
  double clock_fraction = 1.0;  // SM clock / boost clock under the power limit (pipeline: the lowest stage's)
  std::vector<OpCost> ops;
  Provenance provenance = Provenance::kDatasheet;  // the weakest of the ops'
};

class ExecutionModel {
 public:
  static constexpr const char* kInterfaceName = "execution-model";
  static constexpr const char* kInterfaceSummary = "time, energy and breakdown of one engine iteration";
  using Factory = std::function<std::unique_ptr<ExecutionModel>(const ParamValues&, const Deployment&)>;

  virtual ~ExecutionModel() = default;
  /// Full breakdown of one iteration.
  virtual IterationPrediction predict(const BatchShape& batch) const = 0;
  /// Time and energy only; the hot path of simulations (may cache).
  virtual IterationTiming timing(const BatchShape& batch) = 0;
  /// The collectives pipeline stage `stage` runs in one iteration of `batch` (what timing() or
  /// stage_timing() priced them at included), so a caller can run them on a platform's links instead.
  /// Plans without pipeline stages have stage 0 only. Models without communication: none.
  virtual void communication(const BatchShape& /*batch*/, std::size_t /*stage*/, std::vector<CollectiveCall>& calls) const {
    calls.clear();
  }
  /// timing() and the batch's time in each pipeline stage. Models without stages
  /// report one stage of the whole iteration.
  virtual IterationTiming stage_timing(const BatchShape& batch, StageTimes& stages) {
    const IterationTiming t = timing(batch);
    stages.host_s = 0.0;
    stages.stage_s.assign(1, t.iteration_s);
    stages.send_s.clear();
    stages.send_bytes.clear();
    return t;
  }
};

}  // namespace servesim

#include "models/comm/collective_model.h"

#include <utility>

namespace servesim {

const char* collective_name(Collective collective) {
  switch (collective) {
    case Collective::kAllReduce: return "all-reduce";
    case Collective::kAllGather: return "all-gather";
    case Collective::kSendRecv: return "send-recv";
    case Collective::kSendRecvAcrossNodes: return "send-recv-across-nodes";
    case Collective::kAllToAll: return "all-to-all";
    case Collective::kReduceScatter: return "reduce-scatter";
  }
  return "?";
}

void CollectiveModel::start(Engine& engine, Collective collective, const std::vector<EndpointId>& group,
                            int64_t nodes, double bytes, int64_t count, std::function<void()> on_done) {
  const auto ranks = static_cast<int64_t>(group.size());
  const double wait_s = count > 0 ? static_cast<double>(count) * seconds(collective, bytes, ranks, nodes) : 0.0;
  engine.schedule_at(engine.now() + wait_s, kPhaseCompletion, std::move(on_done));
}

}  // namespace servesim

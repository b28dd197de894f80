#pragma once
// Contract: request-level and replica-level measurements of one run, kept in
// bounded memory: per finished request a handful of doubles (for exact
// percentiles; 56 bytes) and one requests.csv row, which goes to the CSV sink in
// chunks when one is set (else it accumulates in memory); inter-token latencies of all tokens
// go into a log-bucket histogram (64 buckets per octave, < 0.6% relative
// error on percentiles; the mean is exact). Per-token times are never stored.
// TPOT = (E2E - TTFT) / (output - 1), defined for output > 1 only. As vLLM reports them:
// queueing (its time_in_queue) = first scheduled - arrival, prefill = first token - first
// scheduled, decode = last token - first token, inference = last token - first scheduled.
// Percentiles are nearest-rank. Times in seconds, energy in joules.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/scheduler/request.h"

namespace servesim {

/// Inter-token latency histogram with log-spaced buckets.
class LogHistogram {
 public:
  LogHistogram();
  void add(double value);
  int64_t count() const { return count_; }
  double mean() const { return count_ > 0 ? sum_ / static_cast<double>(count_) : 0.0; }
  /// Nearest-rank percentile (p in [0, 1]), the bucket's geometric midpoint.
  double percentile(double p) const;

 private:
  std::vector<int64_t> buckets_;
  int64_t count_ = 0;
  int64_t zeros_ = 0;
  double sum_ = 0.0;
};

struct SloTargets {
  double ttft_s = 0.0;  // 0 = no target
  double tpot_s = 0.0;
  bool any() const { return ttft_s > 0.0 || tpot_s > 0.0; }
};

class Metrics {
 public:
  /// `replica_column`: requests.csv ends each row with the serving replica (dp > 1).
  explicit Metrics(SloTargets slo, bool replica_column = false);
  /// A request emitted a token `itl_s` after its previous one.
  void token_gap(double itl_s) { itl_.add(itl_s); }
  /// `replica` is written only with the replica column (-1 otherwise).
  void finished(const Request& request, double finish_s, int replica = -1);
  void rejected(const Request& request, const std::string& reason, int replica = -1);
  /// One iteration of `seconds`, run at SM clock fraction `clock_fraction` (power-limited clocks).
  void iteration(double energy_j, double seconds, double clock_fraction) {
    energy_j_ += energy_j;
    ++iterations_;
    iteration_s_ += seconds;
    clock_weighted_s_ += clock_fraction * seconds;
    min_clock_fraction_ = std::min(min_clock_fraction_, clock_fraction);
  }

  int64_t finished_count() const { return finished_; }
  int64_t rejected_count() const { return rejected_; }
  double energy_j() const { return energy_j_; }
  int64_t iterations() const { return iterations_; }
  /// Mean SM clock fraction over iteration time (1 without iterations).
  double mean_clock_fraction() const { return iteration_s_ > 0.0 ? clock_weighted_s_ / iteration_s_ : 1.0; }
  /// Lowest SM clock fraction of any iteration (1 without iterations).
  double min_clock_fraction() const { return min_clock_fraction_; }
  int64_t output_tokens() const { return output_tokens_; }
  int64_t input_tokens() const { return input_tokens_; }
  const std::string& first_rejection() const { return first_rejection_; }
  /// Where requests.csv rows go, a chunk at a time; unset = kept in memory (csv()).
  void set_csv_sink(std::function<void(std::string_view)> sink) { csv_sink_ = std::move(sink); }
  /// Hands the rows still buffered to the sink.
  void flush_csv();
  const std::string& csv() const { return csv_; }
  std::string take_csv() { return std::move(csv_); }

  /// Latency, throughput and SLO parts of summary.json over `duration_s` of simulated time.
  /// Sorts the per-request values in place (call once, at the end).
  nlohmann::ordered_json summary(double duration_s, int64_t gpus);
  /// Per finished request (TPOT: those with more than one output token), in no particular order.
  const std::vector<double>& ttft_values() const { return ttft_; }
  const std::vector<double>& tpot_values() const { return tpot_; }
  const std::vector<double>& e2e_values() const { return e2e_; }
  const std::vector<double>& queueing_values() const { return queue_; }

 private:
  SloTargets slo_;
  bool replica_column_ = false;
  std::vector<double> ttft_, tpot_, e2e_, queue_, prefill_, decode_, inference_;
  LogHistogram itl_;
  int64_t finished_ = 0, rejected_ = 0, slo_met_ = 0, ttft_met_ = 0, tpot_met_ = 0;
  int64_t input_tokens_ = 0, output_tokens_ = 0, preemptions_ = 0;
  int64_t iterations_ = 0;
  double energy_j_ = 0.0;
  double iteration_s_ = 0.0, clock_weighted_s_ = 0.0, min_clock_fraction_ = 1.0;
  std::string first_rejection_;
  std::string csv_;
  std::function<void(std::string_view)> csv_sink_;
  void begin_row(const Request& request, const char* status);
  void end_row(int replica);
  void row_done();
};

/// Nearest-rank quantiles q = 0, 1/steps, ..., 1 of `values` (a sorted copy); empty when `values` is.
std::vector<double> quantiles(std::vector<double> values, int steps);

/// {mean, p50, p90, p95, p99} of `values` (reordered in place); zeros when empty.
nlohmann::ordered_json distribution(std::vector<double>& values);

}  // namespace servesim

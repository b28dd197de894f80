#include "sim/serving/metrics.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace servesim {
namespace {

// Buckets cover 2^-30 s (~1 ns) .. 2^20 s; 64 per octave.
constexpr int kSubBits = 6;
constexpr int kMinExponent = 1023 - 30;
constexpr int kMaxExponent = 1023 + 20;
constexpr std::size_t kBuckets = static_cast<std::size_t>(kMaxExponent - kMinExponent + 1) << kSubBits;

std::size_t bucket_of(double value) {
  const uint64_t bits = std::bit_cast<uint64_t>(value);
  int exponent = static_cast<int>((bits >> 52) & 0x7ff);
  uint64_t sub = (bits >> (52 - kSubBits)) & ((1u << kSubBits) - 1);
  if (exponent < kMinExponent) exponent = kMinExponent, sub = 0;
  if (exponent > kMaxExponent) exponent = kMaxExponent, sub = (1u << kSubBits) - 1;
  return (static_cast<std::size_t>(exponent - kMinExponent) << kSubBits) | sub;
}

double bucket_mid(std::size_t bucket) {
  const int exponent = static_cast<int>(bucket >> kSubBits) + kMinExponent - 1023;
  const double sub = static_cast<double>(bucket & ((1u << kSubBits) - 1));
  const double low = std::ldexp(1.0 + sub / 64.0, exponent);
  const double high = std::ldexp(1.0 + (sub + 1.0) / 64.0, exponent);
  return std::sqrt(low * high);
}

void append_number(std::string& out, double value) {
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void append_integer(std::string& out, int64_t value) {
  char buffer[24];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

double nearest_rank(std::vector<double>& values, double p) {
  const std::size_t n = values.size();
  std::size_t rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
  return values[rank];
}

}  // namespace

LogHistogram::LogHistogram() : buckets_(kBuckets, 0) {}

void LogHistogram::add(double value) {
  ++count_;
  sum_ += value;
  if (value <= 0.0) {
    ++zeros_;
    return;
  }
  ++buckets_[bucket_of(value)];
}

double LogHistogram::percentile(double p) const {
  if (count_ == 0) return 0.0;
  int64_t rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(count_)));
  rank = std::clamp<int64_t>(rank, 1, count_);
  if (rank <= zeros_) return 0.0;
  int64_t seen = zeros_;
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    seen += buckets_[b];
    if (seen >= rank) return bucket_mid(b);
  }
  return bucket_mid(buckets_.size() - 1);
}

nlohmann::ordered_json distribution(std::vector<double>& values) {
  nlohmann::ordered_json out;
  if (values.empty()) {
    for (const char* key : {"mean", "p50", "p90", "p95", "p99"}) out[key] = 0.0;
    return out;
  }
  double sum = 0.0;
  for (double v : values) sum += v;
  out["mean"] = sum / static_cast<double>(values.size());
  out["p50"] = nearest_rank(values, 0.50);
  out["p90"] = nearest_rank(values, 0.90);
  out["p95"] = nearest_rank(values, 0.95);
  out["p99"] = nearest_rank(values, 0.99);
  return out;
}

Metrics::Metrics(SloTargets slo, bool replica_column) : slo_(slo), replica_column_(replica_column) {
  csv_ =
      "id,status,arrival_s,input_tokens,output_tokens,priority,first_scheduled_s,first_token_s,finish_s,ttft_s,"
      "tpot_s,e2e_s,queueing_s,max_itl_s,preemptions,prefix_hit_tokens,prefill_s,decode_s,inference_s";
  csv_ += replica_column_ ? ",replica\n" : "\n";
}

void Metrics::row_done() {
  constexpr std::size_t kChunkBytes = 1 << 20;
  if (csv_sink_ && csv_.size() >= kChunkBytes) flush_csv();
}

void Metrics::flush_csv() {
  if (!csv_sink_ || csv_.empty()) return;
  csv_sink_(csv_);
  csv_.clear();
}

void Metrics::finished(const Request& r, double finish_s, int replica) {
  ++finished_;
  const double ttft = r.first_token_s - r.arrival_s;
  const double e2e = finish_s - r.arrival_s;
  const double queue = r.first_scheduled_s - r.arrival_s;
  // vLLM's request intervals: prefill = first scheduled -> first token, decode = first -> last
  // token, inference = first scheduled -> last token (time_in_queue is queueing_s).
  const double prefill = r.first_token_s - r.first_scheduled_s;
  const double decode = finish_s - r.first_token_s;
  const double inference = finish_s - r.first_scheduled_s;
  const bool has_tpot = r.output_tokens > 1;
  const double tpot = has_tpot ? (e2e - ttft) / static_cast<double>(r.output_tokens - 1) : 0.0;
  ttft_.push_back(ttft);
  e2e_.push_back(e2e);
  queue_.push_back(queue);
  prefill_.push_back(prefill);
  decode_.push_back(decode);
  inference_.push_back(inference);
  if (has_tpot) tpot_.push_back(tpot);
  input_tokens_ += r.input_tokens;
  output_tokens_ += r.output_tokens;
  preemptions_ += r.preemptions;
  const bool ttft_ok = slo_.ttft_s <= 0.0 || ttft <= slo_.ttft_s;
  const bool tpot_ok = slo_.tpot_s <= 0.0 || !has_tpot || tpot <= slo_.tpot_s;
  ttft_met_ += ttft_ok;
  tpot_met_ += tpot_ok;
  slo_met_ += ttft_ok && tpot_ok;

  std::string& o = csv_;
  begin_row(r, "finished");
  append_number(o, r.first_scheduled_s);
  o += ',';
  append_number(o, r.first_token_s);
  o += ',';
  append_number(o, finish_s);
  o += ',';
  append_number(o, ttft);
  o += ',';
  if (has_tpot) append_number(o, tpot);
  o += ',';
  append_number(o, e2e);
  o += ',';
  append_number(o, queue);
  o += ',';
  append_number(o, r.max_itl_s);
  o += ',';
  append_integer(o, r.preemptions);
  o += ',';
  append_integer(o, r.prefix_hit_tokens);
  o += ',';
  append_number(o, prefill);
  o += ',';
  append_number(o, decode);
  o += ',';
  append_number(o, inference);
  end_row(replica);
}

void Metrics::rejected(const Request& r, const std::string& reason, int replica) {
  ++rejected_;
  if (first_rejection_.empty()) first_rejection_ = "request " + std::to_string(r.id) + ": " + reason;
  begin_row(r, "rejected");
  csv_ += ",,,,,,,,0,0,,,";  // no times; 0 preemptions, 0 prefix-hit tokens; no intervals
  end_row(replica);
}

// id,status,arrival_s,input_tokens,output_tokens,priority, — the columns every row has.
void Metrics::begin_row(const Request& r, const char* status) {
  std::string& o = csv_;
  append_integer(o, r.id);
  o += ',';
  o += status;
  o += ',';
  append_number(o, r.arrival_s);
  o += ',';
  append_integer(o, r.input_tokens);
  o += ',';
  append_integer(o, r.output_tokens);
  o += ',';
  append_integer(o, r.priority);
  o += ',';
}

void Metrics::end_row(int replica) {
  if (replica_column_) {
    csv_ += ',';
    append_integer(csv_, replica);
  }
  csv_ += '\n';
  row_done();
}

std::vector<double> quantiles(std::vector<double> sorted, int steps) {
  std::vector<double> out;
  if (sorted.empty() || steps < 1) return out;
  std::sort(sorted.begin(), sorted.end());
  const auto n = static_cast<double>(sorted.size());
  for (int i = 0; i <= steps; ++i) {
    const double rank = std::ceil(static_cast<double>(i) / static_cast<double>(steps) * n);
    out.push_back(sorted[static_cast<std::size_t>(std::clamp(rank - 1.0, 0.0, n - 1.0))]);
  }
  return out;
}

nlohmann::ordered_json Metrics::summary(double duration_s, int64_t gpus) {
  nlohmann::ordered_json out;
  out["ttft_s"] = distribution(ttft_);
  out["tpot_s"] = distribution(tpot_);
  out["e2e_s"] = distribution(e2e_);
  nlohmann::ordered_json itl;
  itl["mean"] = itl_.mean();
  itl["p50"] = itl_.percentile(0.50);
  itl["p90"] = itl_.percentile(0.90);
  itl["p95"] = itl_.percentile(0.95);
  itl["p99"] = itl_.percentile(0.99);
  itl["tokens"] = itl_.count();
  itl["method"] = "log histogram, 64 buckets per octave";
  out["itl_s"] = itl;
  out["queueing_s"] = distribution(queue_);
  out["prefill_s"] = distribution(prefill_);
  out["decode_s"] = distribution(decode_);
  out["inference_s"] = distribution(inference_);
  out["percentiles"] =
      "nearest rank (the smallest value with at least p of the requests at or below it); itl_s: its histogram";
  const double d = duration_s > 0.0 ? duration_s : 1.0;
  nlohmann::ordered_json throughput;
  throughput["requests_per_s"] = static_cast<double>(finished_) / d;
  throughput["input_tokens_per_s"] = static_cast<double>(input_tokens_) / d;
  throughput["output_tokens_per_s"] = static_cast<double>(output_tokens_) / d;
  throughput["output_tokens_per_s_per_gpu"] = static_cast<double>(output_tokens_) / d / static_cast<double>(gpus);
  throughput["requests_per_s_per_gpu"] = static_cast<double>(finished_) / d / static_cast<double>(gpus);
  out["throughput"] = throughput;
  nlohmann::ordered_json slo;
  const int64_t arrived = finished_ + rejected_;
  const double denominator = arrived > 0 ? static_cast<double>(arrived) : 1.0;
  if (slo_.ttft_s > 0.0) slo["ttft_s"] = slo_.ttft_s;
  if (slo_.tpot_s > 0.0) slo["tpot_s"] = slo_.tpot_s;
  if (slo_.any()) {
    slo["attainment"] = static_cast<double>(slo_met_) / denominator;
    slo["ttft_attainment"] = static_cast<double>(ttft_met_) / denominator;
    slo["tpot_attainment"] = static_cast<double>(tpot_met_) / denominator;
    slo["goodput_requests_per_s"] = static_cast<double>(slo_met_) / d;
    slo["note"] = "attainment over arrived requests; rejected requests count as missed";
  } else {
    slo["note"] = "no SLO given";
  }
  out["slo"] = slo;
  return out;
}

}  // namespace servesim

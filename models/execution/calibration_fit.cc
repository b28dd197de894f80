#include "models/execution/calibration_fit.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <cstdio>

#include <Eigen/Dense>

#include "models/execution/op_level_model.h"

namespace servesim {
namespace {

double min_seconds(const std::vector<double>& times) {
  return times.empty() ? 0.0 : *std::min_element(times.begin(), times.end());
}

// Weighted (relative-error) least squares of t = A x over the rows; returns x.
Eigen::VectorXd solve_relative(const Eigen::MatrixXd& a, const Eigen::VectorXd& t) {
  Eigen::MatrixXd weighted = a;
  Eigen::VectorXd rhs = Eigen::VectorXd::Ones(t.size());
  for (Eigen::Index i = 0; i < a.rows(); ++i) weighted.row(i) /= t(i);
  return weighted.colPivHouseholderQr().solve(rhs);
}

// Same, for A x = t - offset, still weighted by 1 / t.
Eigen::VectorXd solve_relative(const Eigen::MatrixXd& a, const Eigen::VectorXd& t, const Eigen::VectorXd& offset) {
  Eigen::MatrixXd weighted = a;
  Eigen::VectorXd rhs(t.size());
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    weighted.row(i) /= t(i);
    rhs(i) = (t(i) - offset(i)) / t(i);
  }
  return weighted.colPivHouseholderQr().solve(rhs);
}

// t = intercept + slope x by relative least squares; a negative intercept (not physical) is
// refitted as slope only. `predicted` holds the fitted t of every point.
struct AffineFit {
  double intercept = 0.0;
  double slope = 0.0;
  std::vector<double> predicted;
};

AffineFit fit_affine(const std::vector<double>& x, const std::vector<double>& t_values) {
  const auto n = static_cast<Eigen::Index>(x.size());
  Eigen::MatrixXd a(n, 2);
  Eigen::VectorXd t(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    a(i, 0) = 1.0;
    a(i, 1) = x[static_cast<std::size_t>(i)];
    t(i) = t_values[static_cast<std::size_t>(i)];
  }
  Eigen::VectorXd c = solve_relative(a, t);
  if (c(0) < 0.0) c << 0.0, solve_relative(a.rightCols(1), t)(0);
  AffineFit fit{c(0), c(1), {}};
  for (double v : x) fit.predicted.push_back(fit.intercept + v * fit.slope);
  return fit;
}

FitQuality quality_of(const std::string& curve, const std::vector<double>& predicted, const std::vector<double>& measured,
                      const std::vector<std::string>& labels = {}) {
  FitQuality q;
  for (std::size_t i = 0; i < labels.size() && i < measured.size(); ++i) {
    char text[160];
    std::snprintf(text, sizeof text, "%-28s %10.2f us %10.2f us %+6.1f%%", labels[i].c_str(), measured[i] * 1e6,
                  predicted[i] * 1e6, (predicted[i] / measured[i] - 1.0) * 100.0);
    q.rows.push_back(text);
  }
  q.curve = curve;
  q.points = static_cast<int>(measured.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < measured.size(); ++i) {
    const double e = predicted[i] / measured[i] - 1.0;
    sum += e * e;
    q.max_relative_error = std::max(q.max_relative_error, std::fabs(e));
  }
  q.rms_relative_error = measured.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(measured.size()));
  return q;
}

// GEMM: t = latency + max(tile FLOPs / rate, bytes / bandwidth). The max is
// handled by classifying each point by its currently larger term and refitting
// until the classification is stable.
// What one GEMM curve is fitted to: the samples of one dtype, the dispatch floor under which points
// are left out (0 = GPU-only times), the bytes per weight and per input element, starting rates,
// and optionally a curve whose memory regime is kept (FP8: no FP8 point above the floor is memory
// bound, and streaming weights runs at the same HBM rate in any dtype).
struct GemmFitInput {
  const std::vector<GemmSample>* samples = nullptr;
  int64_t sms = 0;
  double floor_s = 0.0;
  double weight_bpp = 2.0;
  double input_bytes = 2.0;
  double initial_flops_per_s = 0.0;
  double initial_bytes_per_s = 0.0;
  const GpuEfficiency* memory_from = nullptr;
  std::string label = "gemm";
};

void fit_gemm(const GemmFitInput& in, double half_tiles, double memory_half_tiles, double overlap,
              const std::function<bool(const GemmSample&)>& excluded, GpuEfficiency* eff, FitQuality* quality) {
  const double floor_s = in.floor_s;
  std::vector<const GemmSample*> points;
  for (const GemmSample& s : *in.samples) {
    if (s.seconds >= kFloorMultiple * floor_s && !excluded(s)) points.push_back(&s);
  }
  eff->gemm_half_tiles = half_tiles;
  eff->gemm_memory_half_tiles = memory_half_tiles;
  eff->gemm_overlap = overlap;
  eff->gemm_latency_s = 0.0;
  eff->gemm_flops_per_s = in.initial_flops_per_s;
  eff->gemm_bytes_per_s = in.initial_bytes_per_s;
  eff->graph_kernel_s = 0.0;
  if (in.memory_from != nullptr) {
    eff->gemm_memory_latency_s = in.memory_from->gemm_memory_latency_s;
    eff->gemm_bytes_per_s = in.memory_from->gemm_bytes_per_s;
  }
  std::vector<bool> compute_bound(points.size(), false);
  double previous_rate = 0.0, previous_bandwidth = 0.0;
  for (int round = 0; round < 60; ++round) {
    bool changed = round == 0 || std::fabs(eff->gemm_flops_per_s / previous_rate - 1.0) > 1e-6 ||
                   std::fabs(eff->gemm_bytes_per_s / previous_bandwidth - 1.0) > 1e-6;
    previous_rate = eff->gemm_flops_per_s;
    previous_bandwidth = eff->gemm_bytes_per_s;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const GemmCost c = gemm_cost(*eff, in.sms, points[i]->m, points[i]->n, points[i]->k, in.weight_bpp, in.input_bytes);
      const bool compute = c.compute_s >= c.memory_s;
      changed = changed || compute != compute_bound[i];
      compute_bound[i] = compute;
    }
    if (!changed) break;
    Eigen::MatrixXd a = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(points.size()), 4);
    Eigen::VectorXd t(static_cast<Eigen::Index>(points.size()));
    Eigen::VectorXd offset = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(points.size()));
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto row = static_cast<Eigen::Index>(i);
      {  // the overlap term at the current rates, moved to the right-hand side
        GpuEfficiency current = *eff;
        current.gemm_latency_s = 0.0;
        current.gemm_memory_latency_s = 0.0;
        current.gemm_overlap = 0.0;
        current.graph_kernel_s = 0.0;
        const GemmCost w = gemm_cost(current, in.sms, points[i]->m, points[i]->n, points[i]->k, in.weight_bpp, in.input_bytes);
        offset(row) = overlap * std::min(w.compute_s, w.memory_s);
      }
      GpuEfficiency unit = *eff;
      unit.gemm_flops_per_s = 1.0;
      unit.gemm_bytes_per_s = 1.0;
      unit.gemm_latency_s = 0.0;
      unit.gemm_memory_latency_s = 0.0;
      const GemmCost c = gemm_cost(unit, in.sms, points[i]->m, points[i]->n, points[i]->k, in.weight_bpp, in.input_bytes);
      // columns: compute latency, 1 / compute rate, memory latency, 1 / bandwidth
      if (compute_bound[i]) {
        a(row, 0) = 1.0;
        a(row, 1) = c.compute_s;
      } else {
        a(row, 2) = 1.0;
        a(row, 3) = c.memory_s;
      }
      t(row) = points[i]->seconds;
    }
    // Each regime needs at least two points to pin its latency and rate.
    int compute_points = 0;
    for (bool c : compute_bound) compute_points += c ? 1 : 0;
    const int memory_points = static_cast<int>(points.size()) - compute_points;
    if (in.memory_from != nullptr) {
      // Memory regime kept: the compute latency and rate from the compute-bound points alone.
      if (compute_points < 2) break;
      Eigen::MatrixXd ac(compute_points, 2);
      Eigen::VectorXd tc(compute_points), oc(compute_points);
      Eigen::Index r = 0;
      for (std::size_t i = 0; i < points.size(); ++i) {
        if (!compute_bound[i]) continue;
        const auto row = static_cast<Eigen::Index>(i);
        ac(r, 0) = 1.0;
        ac(r, 1) = a(row, 1);
        tc(r) = t(row);
        oc(r) = offset(row);
        ++r;
      }
      Eigen::VectorXd y = solve_relative(ac, tc, oc);
      if (y(0) < 0.0) y << 0.0, solve_relative(ac.rightCols(1), tc, oc)(0);
      eff->gemm_latency_s = std::max(0.0, y(0));
      if (y(1) > 0.0) eff->gemm_flops_per_s = 1.0 / y(1);
      continue;
    }
    if (compute_points < 2 || memory_points < 2) break;
    Eigen::VectorXd x = solve_relative(a, t, offset);
    for (int latency : {0, 2}) {
      if (x(latency) < 0.0) {  // no negative latency: refit that regime through the origin
        a.col(latency).setZero();
        Eigen::MatrixXd reduced(a.rows(), 3);
        int column = 0;
        for (int j = 0; j < 4; ++j) {
          if (j != latency) reduced.col(column++) = a.col(j);
        }
        const Eigen::VectorXd y = solve_relative(reduced, t, offset);
        column = 0;
        for (int j = 0; j < 4; ++j) x(j) = j == latency ? 0.0 : y(column++);
      }
    }
    eff->gemm_latency_s = std::max(0.0, x(0));
    if (x(1) > 0.0) eff->gemm_flops_per_s = 1.0 / x(1);
    eff->gemm_memory_latency_s = std::max(0.0, x(2));
    if (x(3) > 0.0) eff->gemm_bytes_per_s = 1.0 / x(3);
  }
  std::vector<double> predicted, measured;
  std::vector<std::string> labels;
  for (const GemmSample* s : points) {
    predicted.push_back(gemm_cost(*eff, in.sms, s->m, s->n, s->k, in.weight_bpp, in.input_bytes).seconds);
    measured.push_back(s->seconds);
    labels.push_back(s->name + " M=" + std::to_string(static_cast<int64_t>(s->m)));
  }
  *quality = quality_of(in.label + " (half rate at " + std::to_string(static_cast<int>(half_tiles)) + "/" +
                            std::to_string(static_cast<int>(memory_half_tiles)) + " tiles, overlap " +
                            std::to_string(static_cast<int>(overlap * 100.0)) + "%)",
                        predicted, measured, labels);
}

}  // namespace

// Smallest rms improvement (absolute) that justifies a non-zero curve shape parameter.
constexpr double kMinimumImprovement = 0.005;

int64_t launches_per_layer(const EngineProfile& engine) {
  int64_t launches = 0;
  for (const KernelSpec& kernel : engine.layer) {
    if (kernel.layers == LayerScope::kMoe) continue;  // a dense layer's launches
    launches += kernel.kind == KernelKind::kAttention ? engine.attention_launches : kernel.launches;
  }
  return launches;
}

double dispatch_floor(const Microbench& bench) {
  std::vector<double> times;
  for (const GemmSample& s : bench.gemm) times.push_back(s.call_seconds > 0.0 ? s.call_seconds : s.seconds);
  return min_seconds(times);
}

namespace {

// The GEMM curve family fitted to one dtype's samples: grid over the shape parameters, least squares
// for the rest, outliers dropped once. Returns the best efficiency's GEMM fields (the rest default).
GpuEfficiency fit_gemm_family(const GemmFitInput& in, FitQuality* quality) {
  GpuEfficiency best;
  FitQuality best_quality;
  // The occupancy curve is not linear in its parameter: search it on a grid,
  // least squares for the rest, keep the best.
  // Robust to single bad measurements (a few H100 points are 2-8x slower than
  // their neighbours at larger M): after a first fit, points off by more than
  // kOutlierRelativeError are dropped and the fit is repeated once.
  std::set<const GemmSample*> outliers;
  const auto excluded = [&](const GemmSample& s) { return outliers.count(&s) > 0; };
  for (int pass = 0; pass < 2; ++pass) {
    // Every combination of the curve shape parameters; then the simplest one
    // (fewest non-zero shape parameters) whose rms error is within
    // kMinimumImprovement of the best, so a shape term must earn its place.
    struct Candidate {
      GpuEfficiency eff;
      FitQuality quality;
      int shape_terms = 0;
    };
    std::vector<Candidate> candidates;
    double best_rms = 1e300;
    const std::vector<double> memory_grid =
        in.memory_from != nullptr ? std::vector<double>{in.memory_from->gemm_memory_half_tiles}
                                  : std::vector<double>{0.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0, 96.0};
    const std::vector<double> overlap_grid = in.memory_from != nullptr
                                                 ? std::vector<double>{in.memory_from->gemm_overlap}
                                                 : std::vector<double>{0.0, 0.1, 0.2, 0.3, 0.4, 0.5};
    for (double half_tiles : {0.0, 8.0, 16.0, 24.0, 32.0, 48.0, 64.0, 80.0, 96.0, 112.0, 128.0, 160.0, 192.0, 256.0,
                              384.0, 512.0}) {
      for (double memory_half_tiles : memory_grid) {
        for (double overlap : overlap_grid) {
          Candidate c;
          fit_gemm(in, half_tiles, memory_half_tiles, overlap, excluded, &c.eff, &c.quality);
          c.shape_terms = (half_tiles > 0.0) + (memory_half_tiles > 0.0) + (overlap > 0.0);
          best_rms = std::min(best_rms, c.quality.rms_relative_error);
          candidates.push_back(c);
        }
      }
    }
    const Candidate* chosen = nullptr;
    for (const Candidate& c : candidates) {
      if (c.quality.rms_relative_error > best_rms + kMinimumImprovement) continue;
      if (chosen == nullptr || c.shape_terms < chosen->shape_terms ||
          (c.shape_terms == chosen->shape_terms && c.quality.rms_relative_error < chosen->quality.rms_relative_error)) {
        chosen = &c;
      }
    }
    best = chosen->eff;
    best_quality = chosen->quality;
    if (pass == 1) break;
    for (const GemmSample& s : *in.samples) {
      if (s.seconds < kFloorMultiple * in.floor_s) continue;
      const double predicted = gemm_cost(best, in.sms, s.m, s.n, s.k, in.weight_bpp, in.input_bytes).seconds;
      if (std::fabs(predicted / s.seconds - 1.0) > kOutlierRelativeError) outliers.insert(&s);
    }
    if (outliers.empty()) break;
  }
  best_quality.curve += ", " + std::to_string(outliers.size()) + " outliers dropped";
  if (quality != nullptr) *quality = best_quality;
  return best;
}

}  // namespace

GpuEfficiency fit_efficiency(const Microbench& bench, const GpuSpec& datasheet, std::vector<FitQuality>* quality) {
  GemmFitInput in;
  in.samples = &bench.gemm;
  in.sms = bench.sms;
  in.floor_s = bench.gemm_gpu_only ? 0.0 : dispatch_floor(bench);
  in.initial_flops_per_s = 0.8 * datasheet.bf16_flops_per_s;
  in.initial_bytes_per_s = 0.9 * datasheet.hbm_bytes_per_s;
  FitQuality best_quality;
  const GpuEfficiency best = fit_gemm_family(in, &best_quality);
  if (quality != nullptr) quality->push_back(best_quality);
  GpuEfficiency eff = best;
  eff.calibrated = true;
  for (const GemmSample& s : bench.gemm) {
    const std::pair<int64_t, int64_t> shape{static_cast<int64_t>(s.n), static_cast<int64_t>(s.k)};
    if (std::find(eff.gemm_measured_shapes.begin(), eff.gemm_measured_shapes.end(), shape) ==
        eff.gemm_measured_shapes.end()) {
      eff.gemm_measured_shapes.push_back(shape);
    }
  }

  // Causal prefill attention: t = latency + tile FLOPs / rate.
  {
    const double floor_s = bench.prefill_attention_gpu_only ? 0.0 : dispatch_floor(bench);
    std::vector<const PrefillAttentionSample*> points;
    for (const auto& s : bench.prefill_attention) {
      if (s.seconds >= kFloorMultiple * floor_s) points.push_back(&s);
    }
    auto tile_flops = [](const PrefillAttentionSample& s) {
      return static_cast<double>(s.batch) * causal_tile_pairs(s.seq, 0) * 4.0 * 128.0 * 128.0 *
             static_cast<double>(s.heads * s.head_dim);
    };
    std::vector<double> work, measured;
    for (const auto* s : points) {
      work.push_back(tile_flops(*s));
      measured.push_back(s->seconds);
    }
    const AffineFit fit = fit_affine(work, measured);
    eff.attention_prefill_latency_s = fit.intercept;
    eff.attention_prefill_flops_per_s = 1.0 / fit.slope;
    if (quality != nullptr) quality->push_back(quality_of("prefill attention", fit.predicted, measured));
  }

  // Decode attention: t = latency + B x per-sequence time + KV bytes / (rate x occupancy),
  // occupancy = x / (x + half), x = B x KV heads. The latency is the host dispatch of one call
  // (SDPA dispatches several host ops; dropped inside iterations) unless the samples are GPU-only.
  // Every row enters: the latency is a term, not a floor. A row that the fit of the other rows
  // misses by more than kOutlierRelativeError is dropped (the first row of a sweep can carry
  // warm-up). The half-point is searched on a grid and the per-sequence term tried with and
  // without; the simplest within kMinimumImprovement of the best rms is kept.
  {
    struct DecodeFit {
      double latency = 0.0, sequence = 0.0, bandwidth = 0.0, half = 0.0;
      int shape_terms = 0;
      double predict(const DecodeAttentionSample& s) const {
        const double items = static_cast<double>(s.batch * s.kv_heads);
        return latency + static_cast<double>(s.batch) * sequence + s.kv_bytes * (items + half) / items / bandwidth;
      }
    };
    const auto fit_one = [](const std::vector<const DecodeAttentionSample*>& points, double half, bool per_sequence) {
      const auto n = static_cast<Eigen::Index>(points.size());
      const int cols = per_sequence ? 3 : 2;
      Eigen::MatrixXd a(n, cols);
      Eigen::VectorXd t(n);
      for (Eigen::Index i = 0; i < n; ++i) {
        const DecodeAttentionSample& s = *points[static_cast<std::size_t>(i)];
        const double items = static_cast<double>(s.batch * s.kv_heads);
        a(i, 0) = 1.0;
        a(i, 1) = s.kv_bytes * (items + half) / items;
        if (per_sequence) a(i, 2) = static_cast<double>(s.batch);
        t(i) = s.seconds;
      }
      Eigen::VectorXd c = solve_relative(a, t);
      if (per_sequence && c(2) < 0.0) {  // no negative per-sequence time
        per_sequence = false;
        c = solve_relative(a.leftCols(2), t);
      }
      if (c(0) < 0.0) {  // nor latency: refit through the origin
        const Eigen::VectorXd y = solve_relative(a.middleCols(1, per_sequence ? 2 : 1), t);
        c.setZero();
        for (Eigen::Index j = 0; j < y.size(); ++j) c(j + 1) = y(j);
      }
      DecodeFit f;
      f.latency = c(0);
      f.bandwidth = 1.0 / c(1);
      f.sequence = per_sequence ? c(2) : 0.0;
      f.half = half;
      f.shape_terms = (half > 0.0 ? 1 : 0) + (per_sequence ? 1 : 0);
      return f;
    };
    const auto rms_of = [](const DecodeFit& f, const std::vector<const DecodeAttentionSample*>& points) {
      double sum = 0.0;
      for (const auto* s : points) sum += std::pow(f.predict(*s) / s->seconds - 1.0, 2);
      return std::sqrt(sum / static_cast<double>(points.size()));
    };
    const auto fit_family = [&](const std::vector<const DecodeAttentionSample*>& points) {
      std::vector<DecodeFit> candidates;
      std::vector<double> rms;
      double best_rms = 1e300;
      const bool room = points.size() > 3;  // the per-sequence term needs a fourth row
      for (double half : {0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0}) {
        if (half > 0.0 && !room) continue;
        for (bool per_sequence : {false, true}) {
          if (per_sequence && (!room || points.size() < 5)) continue;
          candidates.push_back(fit_one(points, half, per_sequence));
          rms.push_back(rms_of(candidates.back(), points));
          best_rms = std::min(best_rms, rms.back());
        }
      }
      std::size_t pick = candidates.size();
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (rms[i] > best_rms + kMinimumImprovement) continue;
        if (pick == candidates.size() || candidates[i].shape_terms < candidates[pick].shape_terms ||
            (candidates[i].shape_terms == candidates[pick].shape_terms && rms[i] < rms[pick])) {
          pick = i;
        }
      }
      return candidates[pick];
    };
    std::vector<const DecodeAttentionSample*> all;
    for (const auto& s : bench.decode_attention) all.push_back(&s);
    // One row at a time: the row worst predicted by the fit of the others, while it is off by more
    // than kOutlierRelativeError (so one bad row cannot make good ones look bad).
    std::vector<const DecodeAttentionSample*> kept = all;
    while (kept.size() > 3) {
      std::size_t worst = kept.size();
      double worst_error = kOutlierRelativeError;
      for (std::size_t i = 0; i < kept.size(); ++i) {
        std::vector<const DecodeAttentionSample*> others = kept;
        others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
        const double error = std::fabs(fit_family(others).predict(*kept[i]) / kept[i]->seconds - 1.0);
        if (error > worst_error) {
          worst_error = error;
          worst = i;
        }
      }
      if (worst == kept.size()) break;
      kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(worst));
    }
    const DecodeFit chosen = fit_family(kept);
    eff.attention_decode_latency_s = chosen.latency;
    eff.attention_decode_bytes_per_s = chosen.bandwidth;
    eff.attention_decode_sequence_s = chosen.sequence;
    eff.attention_decode_half_heads = chosen.half;
    if (quality != nullptr) {
      std::vector<double> predicted, measured;
      std::vector<std::string> labels;
      for (const auto* s : kept) {
        predicted.push_back(chosen.predict(*s));
        measured.push_back(s->seconds);
        labels.push_back("decode B=" + std::to_string(s->batch) + " C=" + std::to_string(s->context));
      }
      char text[160];
      std::snprintf(text, sizeof text, "decode attention (half bandwidth at %g sequence-heads), %zu outliers dropped",
                    chosen.half, all.size() - kept.size());
      quality->push_back(quality_of(text, predicted, measured, labels));
    }
  }

  eff.elementwise_bytes_per_s = bench.hbm_copy_bytes_per_s;
  eff.graph_kernel_s = bench.graph_kernel_s;
  eff.eager_launch_s = bench.eager_launch_s * kEngineOpPerTinyOp;
  eff.power_limit_w = bench.power_limit_w;
  eff.source = "servesim calibrate on " + bench.gpu + " microbenchmarks";
  eff.gemm_fixed_term_is_gpu_time = bench.gemm_gpu_only;
  eff.prefill_attention_fixed_term_is_gpu_time = bench.prefill_attention_gpu_only;
  eff.decode_attention_fixed_term_is_gpu_time = bench.decode_attention_gpu_only;
  const bool any_gpu_only = bench.gemm_gpu_only || bench.prefill_attention_gpu_only || bench.decode_attention_gpu_only;
  if (any_gpu_only) {
    eff.source += std::string("; GPU-only (CUDA-graph) times for") + (bench.gemm_gpu_only ? " gemm" : "") +
                  (bench.prefill_attention_gpu_only ? " prefill-attention" : "") +
                  (bench.decode_attention_gpu_only ? " decode-attention" : "");
  }
  // What an eager engine pays per launch, from the most direct measurement the file has.
  char text[192];
  if (bench.eager_iterations_op_s > 0.0) {
    eff.eager_launch_s = bench.eager_iterations_op_s;
    std::snprintf(text, sizeof text, "; eager launch fitted to host-bound eager whole-model iterations (tiny-op loop %.2f us)",
                  bench.eager_launch_s * 1e6);
    eff.source += text;
  } else if (bench.eager_engine_op_s > 0.0) {
    // The host cost of an op inside the engine's own layer (mixed shapes, views,
    // allocator reuse), not of a tiny op in a tight loop.
    eff.eager_launch_s = bench.eager_engine_op_s;
    std::snprintf(text, sizeof text, "; eager launch from the reference engine layer (%.0f ops, %.1f us per layer)",
                  bench.eager_engine_ops_per_layer, bench.eager_engine_layer_s * 1e6);
    eff.source += text;
  } else if (bench.eager_launch_s > 0.0) {
    std::snprintf(text, sizeof text, "; eager launch = tiny-op loop %.2f us x %.3f (engine op / tiny op on our H200 host)",
                  bench.eager_launch_s * 1e6, kEngineOpPerTinyOp);
    eff.source += text;
  }
  return eff;
}

GemmCurve fit_fp8_gemm(const Fp8GemmBench& bench, int64_t sms, const GpuEfficiency& bf16, const GpuSpec& datasheet,
                       FitQuality* quality) {
  GemmFitInput in;
  in.samples = &bench.gemm;
  in.sms = sms;
  std::vector<double> times;
  for (const GemmSample& s : bench.gemm) times.push_back(s.call_seconds > 0.0 ? s.call_seconds : s.seconds);
  in.floor_s = bench.gpu_only ? 0.0 : min_seconds(times);
  in.weight_bpp = 1.0;
  in.input_bytes = 1.0;
  in.initial_flops_per_s = 0.8 * datasheet.fp8_flops_per_s;
  in.initial_bytes_per_s = bf16.gemm_bytes_per_s;
  in.memory_from = &bf16;
  in.label = "gemm fp8";
  FitQuality q;
  const GpuEfficiency fit = fit_gemm_family(in, &q);
  if (quality != nullptr) *quality = q;
  GemmCurve curve;
  curve.latency_s = fit.gemm_latency_s;
  curve.memory_latency_s = fit.gemm_memory_latency_s;
  curve.flops_per_s = fit.gemm_flops_per_s;
  curve.bytes_per_s = fit.gemm_bytes_per_s;
  curve.half_tiles = fit.gemm_half_tiles;
  curve.memory_half_tiles = fit.gemm_memory_half_tiles;
  curve.overlap = fit.gemm_overlap;
  curve.fixed_term_is_gpu_time = bench.gpu_only;
  curve.measured = true;
  for (const GemmSample& s : bench.gemm) {
    const std::pair<int64_t, int64_t> shape{static_cast<int64_t>(s.n), static_cast<int64_t>(s.k)};
    if (std::find(curve.measured_shapes.begin(), curve.measured_shapes.end(), shape) == curve.measured_shapes.end()) {
      curve.measured_shapes.push_back(shape);
    }
  }
  char text[256];
  std::snprintf(text, sizeof text,
                "servesim calibrate --fp8 on %s FP8 (e4m3) GEMMs: compute regime fitted to %d points above %.1f x "
                "the %.1f us dispatch floor; memory regime (no FP8 point above the floor is memory bound) kept from "
                "the bf16 fit",
                bench.gpu.c_str(), q.points, kFloorMultiple, in.floor_s * 1e6);
  curve.source = text;
  return curve;
}

double fit_eager_launch(const std::vector<EagerIterationSample>& samples, FitQuality* quality) {
  // launches x c = eager time, weighted by 1 / eager time: c = sum(r) / sum(r^2), r = launches / time.
  double sum_r = 0.0, sum_r2 = 0.0;
  std::vector<const EagerIterationSample*> bound;
  for (const EagerIterationSample& s : samples) {
    if (s.launches <= 0.0 || s.eager_seconds < kHostBoundRatio * s.graph_seconds) continue;
    const double r = s.launches / s.eager_seconds;
    sum_r += r;
    sum_r2 += r * r;
    bound.push_back(&s);
  }
  if (bound.empty()) return 0.0;
  const double c = sum_r / sum_r2;
  if (quality != nullptr) {
    std::vector<double> predicted, measured;
    std::vector<std::string> labels;
    for (const auto* s : bound) {
      predicted.push_back(s->launches * c);
      measured.push_back(s->eager_seconds);
      labels.push_back("eager " + s->label);
    }
    *quality = quality_of("eager launch (host-bound iterations)", predicted, measured, labels);
  }
  return c;
}

}  // namespace servesim

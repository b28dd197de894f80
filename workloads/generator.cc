#include "workloads/generator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <string>
#include <vector>

#include "sim/core/config_error.h"
#include "sim/core/registry.h"
#include "workloads/random_variates.h"

namespace servesim {

int64_t LengthDistribution::draw(std::mt19937_64& rng) const {
  switch (shape) {
    case LengthShape::kFixed: return fixed;
    case LengthShape::kUniform: return uniform_int(rng, min, max);
    case LengthShape::kLognormal: {
      // Clipped before rounding: exp can overflow to inf, which llround cannot represent.
      const double value = std::exp(mu + sigma * standard_normal(rng));
      return std::llround(std::clamp(value, static_cast<double>(min), static_cast<double>(max)));
    }
  }
  return fixed;
}

namespace {

void add_length_specs(ParamSpecs& specs, const std::string& which, int64_t fixed_default) {
  specs.push_back(ParamSpec::choice(which + "_dist", "fixed", {"fixed", "uniform", "lognormal"},
                                    which + " length distribution"));
  specs.push_back(ParamSpec::integer(which + "_tokens", fixed_default, 1, 1 << 30,
                                     which + " length when fixed (tokens)"));
  specs.push_back(ParamSpec::integer(which + "_min", 1, 1, 1 << 30, which + " lower bound, uniform/lognormal (tokens)"));
  specs.push_back(ParamSpec::integer(which + "_max", 1 << 20, 1, 1 << 30,
                                     which + " upper bound, uniform/lognormal (tokens)"));
  specs.push_back(ParamSpec::number(which + "_mu", 0.0, -100.0, 100.0, which + " lognormal: mean of ln(tokens)"));
  specs.push_back(ParamSpec::number(which + "_sigma", 1.0, 0.0, 100.0, which + " lognormal: std dev of ln(tokens)"));
}

LengthDistribution length_params(const ParamValues& values, const std::string& which, const std::string& origin) {
  LengthDistribution d;
  const std::string& dist = values.string(which + "_dist");
  d.shape = dist == "uniform" ? LengthShape::kUniform : dist == "lognormal" ? LengthShape::kLognormal
                                                                            : LengthShape::kFixed;
  d.fixed = values.integer(which + "_tokens");
  d.min = values.integer(which + "_min");
  d.max = values.integer(which + "_max");
  d.mu = values.number(which + "_mu");
  d.sigma = values.number(which + "_sigma");
  if (d.shape != LengthShape::kFixed && d.min > d.max) {
    throw ConfigError::at_pointer(origin, "/workload/generator", which + "_min (" + std::to_string(d.min) + ") exceeds " + which +
                                                  "_max (" + std::to_string(d.max) + ")");
  }
  return d;
}

class Generator : public TraceSource {
 public:
  Generator(const GeneratorParams& params, std::string origin)
      : params_(params), sharing_(params.sharing), origin_(std::move(origin)), rng_(params.seed) {
    const double cv = params_.cv;
    if (std::abs(cv - 1.0) > 1e-12) {
      gamma_shape_ = 1.0 / (cv * cv);
      gamma_scale_ = 1.0 / (params_.rate_per_s * gamma_shape_);
      use_gamma_ = true;
    }
    // Group g's identity, the same for every request that starts with it (named once, not per request).
    group_ids_.reserve(static_cast<std::size_t>(sharing_.prefix_groups));
    for (int64_t g = 0; g < sharing_.prefix_groups; ++g) {
      group_ids_.push_back(content_id("generator prefix group " + std::to_string(g)));
    }
    if (sharing_.prefix_groups > 0 && sharing_.prefix_zipf > 0.0) {
      // Popularity of group k (0-based) proportional to (k + 1)^-s, as a cumulative table.
      group_cdf_.resize(static_cast<std::size_t>(sharing_.prefix_groups));
      double sum = 0.0;
      for (std::size_t k = 0; k < group_cdf_.size(); ++k) {
        sum += std::pow(static_cast<double>(k + 1), -sharing_.prefix_zipf);
        group_cdf_[k] = sum;
      }
      for (double& c : group_cdf_) c /= sum;
    }
  }

  bool next(RequestSpec& out) override {
    if (params_.num_requests > 0 && emitted_ >= params_.num_requests) return false;
    if (!next_session_drawn_) {
      if (sessions_started_ > 0) {
        next_session_s_ += use_gamma_ ? gamma_variate(rng_, gamma_shape_, gamma_scale_)
                                      : exponential_variate(rng_, params_.rate_per_s);
      }
      next_session_drawn_ = true;
    }
    // The earliest of the next new session and the next pending turn (a turn first on a tie).
    const bool turn_first = !pending_.empty() && pending_.top().arrival_s <= next_session_s_;
    const double arrival_s = turn_first ? pending_.top().arrival_s : next_session_s_;
    if (params_.duration_s > 0.0 && arrival_s >= params_.duration_s) return false;
    out.arrival_s = arrival_s;
    out.priority = 0;
    out.prefix_hashes.clear();
    out.hash_block_tokens = 0;
    out.session = 0;
    out.line = 0;
    out.input_tokens = params_.input.draw(rng_);
    out.output_tokens = params_.output.draw(rng_);
    if (turn_first) {
      Turn turn = pending_.top();
      pending_.pop();
      continue_session(turn, out);
    } else {
      next_session_drawn_ = false;
      ++sessions_started_;
      start_session(out);
    }
    ++emitted_;
    return true;
  }
  const std::string& origin() const override { return origin_; }

 private:
  // A later turn of a session, waiting for its arrival time.
  struct Turn {
    double arrival_s = 0.0;
    int64_t order = 0;            // ties in arrival time keep the order turns were scheduled in
    uint64_t session = 0;
    int64_t context_tokens = 0;   // the previous turn's prompt and answer
    int64_t group = -1;           // the session's prefix group (-1 = none)
    int64_t turns_left = 0;       // this one included
  };
  struct Later {
    bool operator()(const Turn& a, const Turn& b) const {
      return a.arrival_s != b.arrival_s ? a.arrival_s > b.arrival_s : a.order > b.order;
    }
  };

  void start_session(RequestSpec& out) {
    int64_t group = -1;
    if (sharing_.prefix_groups > 0 &&
        (sharing_.prefix_fraction >= 1.0 || uniform_01(rng_) < sharing_.prefix_fraction)) {
      group = draw_group();
    }
    if (group >= 0) {
      out.input_tokens += sharing_.prefix_tokens;
      set_prefix_group(out, group_ids_[static_cast<std::size_t>(group)], sharing_.prefix_tokens);
    }
    const int64_t turns = draw_turns();
    if (turns > 1) {
      out.session = static_cast<uint64_t>(sessions_started_);
      schedule_next(out, group, turns - 1);
    }
  }

  void continue_session(const Turn& turn, RequestSpec& out) {
    out.input_tokens += turn.context_tokens;
    out.session = turn.session;
    if (turn.group >= 0) set_prefix_group(out, group_ids_[static_cast<std::size_t>(turn.group)], sharing_.prefix_tokens);
    if (turn.turns_left > 1) schedule_next(out, turn.group, turn.turns_left - 1);
  }

  void schedule_next(const RequestSpec& current, int64_t group, int64_t turns_left) {
    Turn next;
    next.arrival_s = current.arrival_s + exponential_variate(rng_, 1.0 / sharing_.think_time_s);
    next.order = scheduled_++;
    next.session = current.session;
    next.context_tokens = current.input_tokens + current.output_tokens;
    next.group = group;
    next.turns_left = turns_left;
    pending_.push(next);
  }

  int64_t draw_group() {
    if (group_cdf_.empty()) return uniform_int(rng_, 0, sharing_.prefix_groups - 1);
    const double u = uniform_01(rng_);
    const auto it = std::upper_bound(group_cdf_.begin(), group_cdf_.end(), u);
    return std::min<int64_t>(it - group_cdf_.begin(), sharing_.prefix_groups - 1);
  }

  // Exactly `turns`, or Geometric on {1, 2, ...} with mean `turns` (success probability 1 / turns).
  int64_t draw_turns() {
    if (!sharing_.geometric_turns) return sharing_.turns;
    const double p = 1.0 / static_cast<double>(sharing_.turns);
    const double extra = std::floor(std::log(uniform_open_01(rng_)) / std::log1p(-p));
    return 1 + static_cast<int64_t>(std::min(extra, 1e6));
  }

  GeneratorParams params_;
  SharingParams sharing_;
  std::string origin_;
  std::mt19937_64 rng_;
  bool use_gamma_ = false;
  double gamma_shape_ = 1.0;  // 1 / cv^2
  double gamma_scale_ = 1.0;  // mean gap / shape (s)
  double next_session_s_ = 0.0;
  bool next_session_drawn_ = false;
  int64_t sessions_started_ = 0;
  int64_t emitted_ = 0;
  int64_t scheduled_ = 0;
  std::vector<uint64_t> group_ids_;
  std::vector<double> group_cdf_;
  std::priority_queue<Turn, std::vector<Turn>, Later> pending_;
};

}  // namespace

ParamSpecs generator_param_specs(bool with_cv) {
  ParamSpecs specs{
      ParamSpec::number("rate", 1.0, 1e-9, 1e9, "mean arrival rate (requests/s; new sessions/s when turns > 1)"),
      ParamSpec::integer("num_requests", 1000, 0, int64_t{1} << 40, "requests to generate (0 = until duration)"),
      ParamSpec::quantity("duration", Dimension::kSeconds, "0 s", "stop arrivals at this simulated time (0 = no limit)",
                          true),
      ParamSpec::integer("seed", 42, 0, int64_t{1} << 53, "random seed (mt19937_64)"),
  };
  if (with_cv) {
    specs.push_back(ParamSpec::number("cv", 1.0, 1e-3, 100.0,
                                      "coefficient of variation of inter-arrival gaps (1 = Poisson, >1 = bursty)"));
  }
  add_length_specs(specs, "input", 512);
  add_length_specs(specs, "output", 128);
  specs.push_back(ParamSpec::integer("prefix_groups", 0, 0, 1 << 20,
                                     "shared prefixes sessions may start with (system prompts, templates, "
                                     "documents; 0 = none)"));
  specs.push_back(ParamSpec::integer("prefix_tokens", 0, 0, 1 << 30, "length of each shared prefix (tokens)"));
  specs.push_back(ParamSpec::number("prefix_fraction", 1.0, 0.0, 1.0,
                                    "share of sessions that start with a shared prefix"));
  specs.push_back(ParamSpec::number("prefix_zipf", 0.0, 0.0, 10.0,
                                    "popularity skew of the prefixes: group k drawn with weight (k+1)^-s "
                                    "(0 = uniform)"));
  specs.push_back(ParamSpec::integer("turns", 1, 1, 1 << 20,
                                     "turns per session (1 = single requests); each turn's prompt is the previous "
                                     "turn's prompt and answer plus a newly drawn input"));
  specs.push_back(ParamSpec::choice("turns_dist", "fixed", {"fixed", "geometric"},
                                    "turns per session: exactly `turns`, or geometric with mean `turns`"));
  specs.push_back(ParamSpec::quantity("think_time", Dimension::kSeconds, "0 s",
                                      "mean gap between a session's turns, exponential, counted from the previous "
                                      "turn's arrival (needs turns > 1)",
                                      true));
  return specs;
}

namespace {

SharingParams sharing_params(const ParamValues& values, const std::string& origin) {
  SharingParams p;
  p.prefix_groups = values.integer("prefix_groups");
  p.prefix_tokens = values.integer("prefix_tokens");
  p.prefix_fraction = values.number("prefix_fraction");
  p.prefix_zipf = values.number("prefix_zipf");
  p.turns = values.integer("turns");
  p.geometric_turns = values.string("turns_dist") == "geometric";
  p.think_time_s = values.number("think_time");
  auto fail = [&](const std::string& message) {
    throw ConfigError::at_pointer(origin, "/workload/generator", message);
  };
  if (p.prefix_groups > 0 && p.prefix_tokens == 0) fail("prefix_groups needs prefix_tokens (the prefix length)");
  if (p.prefix_groups == 0 && p.prefix_tokens > 0) fail("prefix_tokens needs prefix_groups (how many prefixes)");
  if (p.prefix_groups == 0 && (p.prefix_fraction != 1.0 || p.prefix_zipf != 0.0)) {
    fail("prefix_fraction and prefix_zipf need prefix_groups");
  }
  if (p.turns == 1 && p.geometric_turns) fail("turns_dist geometric needs turns > 1 (its mean)");
  if (p.turns == 1 && p.think_time_s > 0.0) fail("think_time needs turns > 1");
  if (p.turns > 1 && p.think_time_s == 0.0) {
    fail("turns > 1 needs a think_time > 0 (every turn would arrive with the first)");
  }
  return p;
}

}  // namespace

GeneratorParams generator_params(const ParamValues& values, const std::string& origin, bool with_cv) {
  GeneratorParams p;
  p.rate_per_s = values.number("rate");
  p.cv = with_cv ? values.number("cv") : 1.0;
  p.num_requests = values.integer("num_requests");
  p.duration_s = values.number("duration");
  p.seed = static_cast<uint64_t>(values.integer("seed"));
  p.input = length_params(values, "input", origin);
  p.output = length_params(values, "output", origin);
  p.sharing = sharing_params(values, origin);
  if (p.num_requests == 0 && p.duration_s == 0.0) {
    throw ConfigError::at_pointer(origin, "/workload/generator", "set num_requests or duration (both are 0: the stream never ends)");
  }
  return p;
}

std::unique_ptr<TraceSource> make_generator(const GeneratorParams& params, const std::string& origin) {
  return std::make_unique<Generator>(params, origin);
}

SERVESIM_REGISTER(WorkloadGenerator, "poisson", "Poisson arrivals (exponential gaps) at a mean rate",
                  generator_param_specs(false), [](const ParamValues& values, const std::string& origin) {
                    return make_generator(generator_params(values, origin, false), origin);
                  });

SERVESIM_REGISTER(WorkloadGenerator, "gamma", "Gamma-distributed gaps: mean rate plus burstiness (cv)",
                  generator_param_specs(true), [](const ParamValues& values, const std::string& origin) {
                    return make_generator(generator_params(values, origin, true), origin);
                  });

}  // namespace servesim

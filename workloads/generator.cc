#include "workloads/generator.h"

#include <algorithm>
#include <cmath>
#include <limits>

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
      : params_(params), origin_(std::move(origin)), rng_(params.seed) {
    const double cv = params_.cv;
    if (std::abs(cv - 1.0) > 1e-12) {
      gamma_shape_ = 1.0 / (cv * cv);
      gamma_scale_ = 1.0 / (params_.rate_per_s * gamma_shape_);
      use_gamma_ = true;
    }
  }

  bool next(RequestSpec& out) override {
    if (params_.num_requests > 0 && emitted_ >= params_.num_requests) return false;
    if (emitted_ > 0) {
      time_s_ += use_gamma_ ? gamma_variate(rng_, gamma_shape_, gamma_scale_)
                         : exponential_variate(rng_, params_.rate_per_s);
    }
    if (params_.duration_s > 0.0 && time_s_ >= params_.duration_s) return false;
    out.arrival_s = time_s_;
    out.input_tokens = params_.input.draw(rng_);
    out.output_tokens = params_.output.draw(rng_);
    out.priority = 0;
    out.prefix_hashes.clear();
    out.hash_block_tokens = 0;
    out.line = 0;
    ++emitted_;
    return true;
  }
  const std::string& origin() const override { return origin_; }

 private:
  GeneratorParams params_;
  std::string origin_;
  std::mt19937_64 rng_;
  bool use_gamma_ = false;
  double gamma_shape_ = 1.0;  // 1 / cv^2
  double gamma_scale_ = 1.0;  // mean gap / shape (s)
  double time_s_ = 0.0;
  int64_t emitted_ = 0;
};

}  // namespace

ParamSpecs generator_param_specs(bool with_cv) {
  ParamSpecs specs{
      ParamSpec::number("rate", 1.0, 1e-9, 1e9, "mean arrival rate (requests/s)"),
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
  return specs;
}

GeneratorParams generator_params(const ParamValues& values, const std::string& origin, bool with_cv) {
  GeneratorParams p;
  p.rate_per_s = values.number("rate");
  p.cv = with_cv ? values.number("cv") : 1.0;
  p.num_requests = values.integer("num_requests");
  p.duration_s = values.number("duration");
  p.seed = static_cast<uint64_t>(values.integer("seed"));
  p.input = length_params(values, "input", origin);
  p.output = length_params(values, "output", origin);
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

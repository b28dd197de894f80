// Closed-form checks of power-limited clocks (DVFS): the activity power model's
// clock solve and the op-level model's use of it (timing, predict, step output).
#include <cmath>
#include <string>

#include <gtest/gtest.h>

#include "models/energy/power_model.h"
#include "models/execution/op_level_model.h"

namespace servesim {
namespace {

// A GPU of 100 W idle, 700 W limit, peaks 1 PFLOP/s and 1 TB/s.
ActivityPowerParams params(double compute_w, double memory_w, double exponent) {
  ActivityPowerParams p;
  p.idle_w = 100.0;
  p.limit_w = 700.0;
  p.compute_w = compute_w;
  p.memory_w = memory_w;
  p.dvfs_exponent = exponent;
  p.peak_flops_per_s = 1e15;
  p.peak_bytes_per_s = 1e12;
  return p;
}

// System: 1 s fully busy and compute bound at half the peak rate, 400 W per unit of peak rate.
// Expectation: 100 + 200 W is under the 700 W limit, so the clock and the time are the boost ones exactly.
TEST(PowerLimit, AnIterationBelowTheLimitRunsAtClockFractionOneExactly) {
  const ActivityPowerModel power(params(400.0, 0.0, 3.0));
  const GpuActivity boost{1.0, 1.0, 0.5e15, 0.0, 1.0, 1.0, 1.0};
  const GpuActivity run = power.at_power_limit(boost);
  EXPECT_EQ(run.clock_fraction, 1.0);
  EXPECT_EQ(run.seconds, 1.0);
  EXPECT_EQ(power.watts(run), 300.0);
}

// System: a compute-bound iteration (all of its time clocked) whose dynamic power at boost is twice the
// limit's headroom over idle: 1200 W at the full peak rate, 600 W of headroom.
// Expectation: at clock f the time is T / f and the compute power 1200 f^e, so f = 2^(-1/e); the GPU then
// draws exactly the limit. Checked for e = 3 (V ~ f), 1.5 (halves: no pow) and 1.7 (std::pow).
TEST(PowerLimit, ComputeBoundIterationAtTwiceTheLimitsDynamicPowerRunsAtTheClosedFormClock) {
  for (const double exponent : {3.0, 1.5, 1.7}) {
    const ActivityPowerModel power(params(1200.0, 0.0, exponent));
    const GpuActivity boost{0.01, 0.01, 0.01 * 1e15, 0.0, 0.01, 1.0, 1.0};
    const GpuActivity run = power.at_power_limit(boost);
    const double f = std::pow(2.0, -1.0 / exponent);
    EXPECT_NEAR(run.clock_fraction, f, 1e-12) << exponent;
    EXPECT_NEAR(run.seconds, 0.01 / f, 1e-14) << exponent;
    EXPECT_NEAR(run.flop_energy_scale, std::pow(f, exponent - 1.0), 1e-12) << exponent;
    EXPECT_NEAR(power.watts(run), 700.0, 1e-9) << exponent;
    EXPECT_NEAR(power.joules(run), 700.0 * 0.01 / f, 1e-9) << exponent;
  }
}

// System: 1 s clocked (compute) + 1 s unclocked (HBM streaming), exponent 1 (power linear in clock):
// compute energy 1500 J, HBM energy 300 J at boost, 600 W of headroom.
// Expectation: 1500 + 300 = 600 (1 / f + 1) gives f = 600 / (1500 + 300 - 600) = 0.5: the clocked second
// doubles, the streaming second does not, and the GPU draws 100 + (1500 + 300) / 3 = 700 W.
TEST(PowerLimit, StreamingTimeDoesNotStretchAndTheClockUsesTheRemainingHeadroom) {
  const ActivityPowerModel power(params(750.0, 150.0, 1.0));
  const GpuActivity boost{2.0, 2.0, 2.0 * 1e15, 2.0 * 1e12, 1.0, 1.0, 1.0};
  const GpuActivity run = power.at_power_limit(boost);
  EXPECT_NEAR(run.clock_fraction, 0.5, 1e-12);
  EXPECT_NEAR(run.seconds, 3.0, 1e-12);
  EXPECT_NEAR(run.clocked_s, 2.0, 1e-12);
  EXPECT_NEAR(power.watts(run), 700.0, 1e-9);
}

// System: no clocked time (all streaming) above the limit. Expectation: no SM clock brings it under the
// limit; it keeps the boost time and its reported power is capped at the limit.
TEST(PowerLimit, AnIterationWithNothingClockedKeepsItsTimeAndIsCappedAtTheLimit) {
  const ActivityPowerModel power(params(0.0, 1000.0, 3.0));
  const GpuActivity boost{1.0, 1.0, 0.0, 1e12, 0.0, 1.0, 1.0};
  const GpuActivity run = power.at_power_limit(boost);
  EXPECT_EQ(run.clock_fraction, 1.0);
  EXPECT_EQ(run.seconds, 1.0);
  EXPECT_EQ(power.watts(run), 700.0);
}

// The op-level model on a test GPU whose only kernel is one compute-bound GEMM per layer (HBM bandwidth
// so high that nothing is memory bound): idle 100 W, limit 700 W, compute power set so that a large
// prefill draws twice the headroom at boost.
Deployment gemm_only(double compute_w) {
  Deployment d;
  d.node.gpu.name = "test-gpu";
  d.node.gpu.bf16_flops_per_s = 200e12;
  d.node.gpu.hbm_bytes_per_s = 2e12;
  d.node.gpu.hbm_bytes = 80e9;
  d.node.gpu.sms = 100;
  d.node.gpu.tdp_w = 700;
  d.node.gpu.idle_w = 100;
  GpuEfficiency& eff = d.node.gpu.efficiency;
  eff.calibrated = true;
  eff.gemm_flops_per_s = 100e12;
  eff.gemm_bytes_per_s = 1e18;
  eff.gemm_latency_s = 2e-6;
  eff.attention_prefill_flops_per_s = 50e12;
  eff.attention_decode_bytes_per_s = 0.5e12;
  eff.elementwise_bytes_per_s = 0.8e12;
  eff.graph_kernel_s = 1e-6;
  eff.power_compute_w = compute_w;
  eff.power_memory_w = 1e-9;  // (a coefficient must be set for the calibration's power to be used)
  eff.power_limit_w = 700;
  eff.power_dvfs_exponent = 3.0;
  d.node.gpus_per_node = 8;
  d.node.cpu.launch_s = 10e-6;
  d.model.name = "test";
  d.model.hidden = 4096;
  d.model.layers = 2;
  d.model.heads = 32;
  d.model.kv_heads = 8;
  d.model.head_dim = 128;
  d.model.intermediate = 14336;
  d.model.vocab = 0;
  d.model.weight_bytes_per_param = 2.0;
  d.engine.name = "test-engine";
  d.engine.graph_prefill = true;
  d.engine.graph_decode = true;
  KernelSpec k;
  k.name = "gemm";
  k.kind = KernelKind::kGemm;
  k.weight = GemmWeight::kGateUp;
  d.engine.layer = {k};
  return d;
}

// Expectation: the boost activity of prefill 1 x 8192 is all clocked; with compute power
// 2 x 600 W / (its FLOP/s / peak) it draws 100 + 1200 W at boost and runs at f = 2^(-1/3):
// timing(), predict() and the power_limited_clock op agree on that closed form.
TEST(PowerLimit, OpLevelModelRunsAComputeBoundIterationAtTheClosedFormClock) {
  const BatchShape batch{{Segment{1, 8192, 0}}};
  const GpuActivity probe = OpLevelExecutionModel(gemm_only(1.0)).activity(batch);
  ASSERT_NEAR(probe.clocked_s, probe.seconds, 1e-15);
  const double fraction_of_peak = probe.flops / probe.seconds / 200e12;
  OpLevelExecutionModel model(gemm_only(2.0 * 600.0 / fraction_of_peak));
  const double f = std::pow(2.0, -1.0 / 3.0);
  const IterationTiming t = model.timing(batch);
  EXPECT_NEAR(t.clock_fraction, f, 1e-9);
  EXPECT_NEAR(t.iteration_s, probe.seconds / f, 1e-12);
  EXPECT_NEAR(t.energy_j, 700.0 * probe.seconds / f, 1e-6);
  const IterationPrediction p = model.predict(batch);
  EXPECT_NEAR(p.clock_fraction, f, 1e-9);
  EXPECT_NEAR(p.iteration_s, t.iteration_s, 1e-12);
  double slowdown = 0.0;
  for (const OpCost& op : p.ops) {
    if (op.name == "power_limited_clock") slowdown = op.seconds;
  }
  EXPECT_NEAR(slowdown, probe.seconds * (1.0 / f - 1.0), 1e-12);
}

// Expectation: the same prefill on a GPU whose compute power is 1 W per unit of peak rate draws
// ~100.5 W: clock 1 exactly and the boost time, bit for bit, in timing() and predict() (no
// power_limited_clock op).
TEST(PowerLimit, OpLevelModelRunsAnIterationUnderTheLimitAtTheBoostClock) {
  const BatchShape batch{{Segment{1, 8192, 0}}};
  OpLevelExecutionModel model(gemm_only(1.0));
  const IterationTiming t = model.timing(batch);
  EXPECT_EQ(t.clock_fraction, 1.0);
  EXPECT_EQ(t.iteration_s, model.activity(batch).seconds);
  const IterationPrediction p = model.predict(batch);
  EXPECT_EQ(p.clock_fraction, 1.0);
  for (const OpCost& op : p.ops) EXPECT_NE(op.name, "power_limited_clock");
}

}  // namespace
}  // namespace servesim

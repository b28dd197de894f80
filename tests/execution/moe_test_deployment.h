#pragma once
// The MoE test setup shared by expert_parallel_test and moe_engine_test: a GPU with round numbers
// (100 TFLOP/s, 1 TB/s) and a fabric whose all-reduce fit is 20 us + bytes / 100 GB/s, Mixtral-like
// shapes (8 experts, top-2, one MoE layer, no embedding) and one layer of two expert GEMMs.
#include <cstdint>

#include "models/execution/deployment.h"
#include "models/execution/engine_profile.h"

namespace servesim::moe_test {

inline GpuEfficiency round_efficiency() {
  GpuEfficiency eff;
  eff.calibrated = true;
  eff.gemm_flops_per_s = 100e12;
  eff.gemm_bytes_per_s = 1e12;
  eff.gemm_latency_s = 2e-6;
  eff.gemm_memory_latency_s = 3e-6;
  eff.attention_prefill_flops_per_s = 50e12;
  eff.attention_decode_bytes_per_s = 0.5e12;
  eff.elementwise_bytes_per_s = 0.8e12;
  eff.graph_kernel_s = 1e-6;
  eff.eager_launch_s = 10e-6;
  return eff;
}

constexpr double kAllReduceLatencyS = 20e-6;
constexpr double kAllReduceBusBytesPerS = 100e9;

// Mixtral-like shapes: 8 experts, top-2, one MoE layer, no embedding.
inline ModelSpec moe_model() {
  ModelSpec model;
  model.name = "test-moe";
  model.hidden = 4096;
  model.layers = 1;
  model.heads = 32;
  model.kv_heads = 8;
  model.head_dim = 128;
  model.intermediate = 14336;
  model.vocab = 0;
  model.moe.experts = 8;
  model.moe.experts_per_token = 2;
  model.moe.expert_intermediate = 14336;
  return model;
}

inline KernelSpec gemm_kernel(const char* name, GemmWeight weight) {
  KernelSpec k;
  k.name = name;
  k.kind = KernelKind::kGemm;
  k.weight = weight;
  return k;
}

// One MoE layer of two expert GEMMs (gate+up, down), CUDA-graph replayed (no host time).
inline Deployment moe_deployment(int64_t tp, int64_t ep) {
  Deployment d;
  d.node.gpu.name = "test-gpu";
  d.node.gpu.bf16_flops_per_s = 200e12;
  d.node.gpu.hbm_bytes_per_s = 2e12;
  d.node.gpu.hbm_bytes = 80e9;
  d.node.gpu.sms = 100;
  d.node.gpu.tdp_w = 700;
  d.node.gpu.idle_w = 100;
  d.node.gpu.efficiency = round_efficiency();
  d.node.gpus_per_node = 8;
  d.node.fabric.bytes_per_s = 100e9;
  d.node.fabric.latency_s = 5e-6;
  d.node.fabric.allreduce_latency_s = kAllReduceLatencyS;
  d.node.fabric.allreduce_bus_bytes_per_s = kAllReduceBusBytesPerS;
  d.model = moe_model();
  d.engine.name = "test-engine";
  d.engine.graph_prefill = true;
  d.engine.graph_decode = true;
  d.engine.layer = {gemm_kernel("gate_up_proj", GemmWeight::kGateUp), gemm_kernel("down_proj", GemmWeight::kDown)};
  d.plan.tp = tp;
  d.plan.ep = ep;
  return d;
}

}  // namespace servesim::moe_test

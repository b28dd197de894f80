#include "sim/config/deployment_reader.h"

#include <string>

#include "models/comm/collective_model.h"
#include "sim/config/calibration_io.h"
#include "sim/config/catalog.h"
#include "sim/config/spec_readers.h"
#include "sim/core/config_error.h"
#include "sim/core/registry.h"

namespace servesim {
namespace {

constexpr int64_t kMaxCount = int64_t{1} << 40;


GpuSpec read_gpu(ConfigNode& node, bool with_calibration) {
  node.require_object();
  GpuSpec gpu;
  skip_documentation(node);
  node.has("price");  // the on-demand price a sweep's cost metrics use (sim/sweep/gpu_price.h); runs never read it
  gpu.name = node.string("name", "gpu");
  gpu.bf16_flops_per_s = node.quantity("bf16", Dimension::kFlopsPerSecond);
  gpu.fp16_flops_per_s = node.quantity("fp16", Dimension::kFlopsPerSecond, gpu.bf16_flops_per_s);
  gpu.fp8_flops_per_s = node.quantity("fp8", Dimension::kFlopsPerSecond, 0.0, true);
  gpu.fp4_flops_per_s = node.quantity("fp4", Dimension::kFlopsPerSecond, 0.0, true);
  gpu.fp8_gemm_rate_ratio = node.number("fp8_gemm_rate_ratio", 0.0, 10.0, 0.0);
  gpu.hbm_bytes = node.quantity("hbm", Dimension::kBytes);
  gpu.hbm_bytes_per_s = node.quantity("hbm_bandwidth", Dimension::kBytesPerSecond);
  gpu.l2_bytes = node.quantity("l2", Dimension::kBytes);
  gpu.sms = node.integer("sms", 1, 100000);
  gpu.clock_hz = node.quantity("clock", Dimension::kHertz);
  gpu.tdp_w = node.quantity("tdp", Dimension::kWatts);
  gpu.idle_w = node.quantity("idle", Dimension::kWatts);
  gpu.calibration = node.string("calibration", "");
  if (!gpu.calibration.empty() && with_calibration) {
    ConfigNode calibration = load_entry(kCalibrationCatalog, gpu.calibration, "calibration",
                                        node.file() + ": " + node.pointer() + "/calibration");
    gpu.efficiency = read_calibration(calibration);
  }
  node.finish();
  return gpu;
}

HostCpuSpec read_cpu(ConfigNode& node, const std::string& name) {
  HostCpuSpec cpu;
  skip_documentation(node);
  cpu.name = node.string("name", name);
  cpu.launch_s = node.quantity("launch", Dimension::kSeconds);
  cpu.iteration_overhead_s = node.quantity("iteration_overhead", Dimension::kSeconds, 0.0, true);
  cpu.sequence_overhead_s = node.quantity("sequence_overhead", Dimension::kSeconds, 0.0, true);
  cpu.memory.capacity_bytes = node.quantity("memory", Dimension::kBytes);
  cpu.sockets = node.integer("sockets", 0, 64, 0);
  cpu.cores_per_socket = node.integer("cores_per_socket", 0, 4096, 0);
  cpu.socket_power.idle_w = node.quantity("socket_idle_power", Dimension::kWatts, 0.0, true);
  cpu.socket_power.active_w = node.quantity("socket_tdp", Dimension::kWatts, cpu.socket_power.idle_w, true);
  if (cpu.socket_power.active_w < cpu.socket_power.idle_w) node.fail("socket_tdp", "is below socket_idle_power");
  if (cpu.socket_power.given() && (cpu.sockets == 0 || cpu.cores_per_socket == 0)) {
    node.fail("socket_idle_power", "socket power needs \"sockets\" and \"cores_per_socket\"");
  }
  cpu.memory.idle_w = node.quantity("memory_idle_power", Dimension::kWatts, 0.0, true);
  cpu.memory.access_j_per_byte = 8e-12 * node.number("memory_access_pj_per_bit", 0.0, 1e6, 0.0);
  node.finish();
  return cpu;
}

HostLinkSpec read_host_link(ConfigNode& node, const std::string& name) {
  HostLinkSpec link;
  skip_documentation(node);
  link.name = node.string("name", name);
  link.h2d_bytes_per_s = node.quantity("h2d_bandwidth", Dimension::kBytesPerSecond);
  link.d2h_bytes_per_s = node.quantity("d2h_bandwidth", Dimension::kBytesPerSecond);
  link.latency_s = node.quantity("latency", Dimension::kSeconds, 0.0, true);
  node.finish();
  return link;
}

FabricSpec read_fabric(ConfigNode& node, const std::string& name) {
  FabricSpec fabric;
  skip_documentation(node);
  node.has("collectives_source");
  node.has("flow_source");
  fabric.name = node.string("name", name);
  fabric.bytes_per_s = node.quantity("bandwidth", Dimension::kBytesPerSecond);
  fabric.latency_s = node.quantity("latency", Dimension::kSeconds, 0.0, true);
  fabric.allreduce_latency_s = node.quantity("allreduce_latency", Dimension::kSeconds, 0.0, true);
  fabric.allreduce_bus_bytes_per_s = node.quantity("allreduce_bus_bandwidth", Dimension::kBytesPerSecond, 0.0, true);
  fabric.send_recv_latency_s = node.quantity("send_recv_latency", Dimension::kSeconds, 0.0, true);
  fabric.send_recv_bytes_per_s = node.quantity("send_recv_bandwidth", Dimension::kBytesPerSecond, 0.0, true);
  fabric.inter_node_send_recv_latency_s = node.quantity("inter_node_send_recv_latency", Dimension::kSeconds, 0.0, true);
  fabric.inter_node_send_recv_bytes_per_s =
      node.quantity("inter_node_send_recv_bandwidth", Dimension::kBytesPerSecond, 0.0, true);
  fabric.inter_node_allreduce_latency_s = node.quantity("inter_node_allreduce_latency", Dimension::kSeconds, 0.0, true);
  fabric.inter_node_allreduce_bus_bytes_per_s =
      node.quantity("inter_node_allreduce_bus_bandwidth", Dimension::kBytesPerSecond, 0.0, true);
  fabric.flow_launch_latency_s = node.quantity("flow_launch_latency", Dimension::kSeconds, 0.0, true);
  fabric.flow_step_latency_s = node.quantity("flow_step_latency", Dimension::kSeconds, 0.0, true);
  fabric.flow_efficiency = node.number("flow_efficiency", 0.0, 1.0, 0.0);
  fabric.flow_efficiency_half_ranks = node.number("flow_efficiency_half_ranks", 0.0, 1024.0, 0.0);
  node.finish();
  return fabric;
}

CxlMemorySpec read_cxl(ConfigNode& node) {
  node.require_object();
  CxlMemorySpec cxl;
  skip_documentation(node);
  cxl.capacity_bytes = node.quantity("capacity", Dimension::kBytes);
  cxl.bytes_per_s = node.quantity("bandwidth", Dimension::kBytesPerSecond);
  cxl.latency_s = node.quantity("latency", Dimension::kSeconds, 0.0, true);
  cxl.power = read_device_power(node);
  cxl.devices = node.integer("devices", 1, 64, 1);
  node.finish();
  return cxl;
}

SsdSpec read_ssd(ConfigNode& node) {
  node.require_object();
  SsdSpec ssd;
  skip_documentation(node);
  ssd.capacity_bytes = node.quantity("capacity", Dimension::kBytes);
  ssd.read_bytes_per_s = node.quantity("read_bandwidth", Dimension::kBytesPerSecond);
  ssd.write_bytes_per_s = node.quantity("write_bandwidth", Dimension::kBytesPerSecond);
  ssd.power = read_device_power(node);
  ssd.devices = node.integer("devices", 1, 64, 1);
  node.finish();
  return ssd;
}

RowScope read_rows(ConfigNode& node) {
  return node.choice("rows", {"tokens", "sampled"}, "tokens") == "tokens" ? RowScope::kTokens : RowScope::kSampled;
}

// `in_layer`: a kernel of the per-layer list (only those may name the layers they run in or run
// per expert).
KernelSpec read_kernel(ConfigNode& node, bool in_layer) {
  node.require_object();
  KernelSpec kernel;
  kernel.name = node.string("name");
  const std::string kind = node.choice("kind", {"elementwise", "gemm", "attention"});
  kernel.launches = node.integer("launches", 1, 1000, 1);
  kernel.rows = read_rows(node);
  if (in_layer) {
    kernel.layers = node.choice("layers", {"all", "moe"}, "all") == "moe" ? LayerScope::kMoe : LayerScope::kAll;
    kernel.per_expert = node.boolean("per_expert", false);
  } else {
    if (node.has("layers")) node.fail("layers", "only a kernel of \"layer\" runs in some layers");
    if (node.has("per_expert")) node.fail("per_expert", "only a kernel of \"layer\" runs per expert");
  }
  if (kernel.per_expert && kernel.rows != RowScope::kTokens) {
    node.fail("per_expert", "a per-expert kernel runs over its expert's token rows: \"rows\" must be \"tokens\"");
  }
  if (kernel.per_expert && kind != "elementwise") {
    node.fail("per_expert", "only elementwise kernels run per expert (expert GEMMs follow \"moe_experts\")");
  }
  if (kind == "elementwise") {
    kernel.kind = KernelKind::kElementwise;
    ConfigNode bytes = node.child("bytes_per_row");
    bytes.require_object();
    kernel.bytes_per_row.hidden = bytes.number("hidden", 0.0, 1e6, 0.0);
    kernel.bytes_per_row.q = bytes.number("q", 0.0, 1e6, 0.0);
    kernel.bytes_per_row.kv = bytes.number("kv", 0.0, 1e6, 0.0);
    kernel.bytes_per_row.ffn = bytes.number("ffn", 0.0, 1e6, 0.0);
    kernel.bytes_per_row.vocab = bytes.number("vocab", 0.0, 1e6, 0.0);
    kernel.bytes_per_row.experts = bytes.number("experts", 0.0, 1e6, 0.0);
    kernel.bytes_per_row.constant = bytes.number("constant", 0.0, 1e12, 0.0);
    bytes.finish();
  } else if (kind == "gemm") {
    kernel.kind = KernelKind::kGemm;
    const std::string weight = node.choice("weight", {"qkv", "o", "gate_up", "down", "lm_head", "router"});
    if (weight == "qkv") kernel.weight = GemmWeight::kQkv;
    if (weight == "o") kernel.weight = GemmWeight::kO;
    if (weight == "gate_up") kernel.weight = GemmWeight::kGateUp;
    if (weight == "down") kernel.weight = GemmWeight::kDown;
    if (weight == "lm_head") kernel.weight = GemmWeight::kLmHead;
    if (weight == "router") {
      kernel.weight = GemmWeight::kRouter;
      if (kernel.layers != LayerScope::kMoe) {
        node.fail("weight", "the router GEMM runs only in MoE layers: give it \"layers\": \"moe\"");
      }
    }
  } else {
    kernel.kind = KernelKind::kAttention;
  }
  node.finish();
  return kernel;
}

std::vector<KernelSpec> read_kernels(ConfigNode& node, const std::string& key) {
  std::vector<KernelSpec> kernels;
  if (!node.has(key)) return kernels;
  for (ConfigNode& item : node.array(key)) kernels.push_back(read_kernel(item, key == "layer"));
  return kernels;
}

DType to_dtype(const std::string& name) {
  for (DType d : {DType::kFp32, DType::kBf16, DType::kFp16, DType::kFp8, DType::kFp4, DType::kInt8, DType::kInt4}) {
    if (name == dtype_name(d)) return d;
  }
  return DType::kBf16;  // unreachable: callers pass a choice() result
}

DType read_dtype(ConfigNode& node, const std::string& key, const std::vector<std::string>& allowed,
                 DType default_value) {
  return to_dtype(node.choice(key, allowed, dtype_name(default_value)));
}

bool is_16_bit(DType d) { return d == DType::kBf16 || d == DType::kFp16; }

// The GEMMs' compute dtype needs a tensor-core path on the GPU (its catalog peak for that dtype).
void check_precision(ConfigNode& where, const std::string& key, const Precision& p, const GpuSpec& gpu) {
  const double peak = p.activations == DType::kFp8   ? gpu.fp8_flops_per_s
                      : p.activations == DType::kFp4 ? gpu.fp4_flops_per_s
                                                     : 1.0;
  if (peak > 0.0) return;
  const std::string name = dtype_name(p.activations);
  where.fail(key, name + " activations need " + name + " tensor cores, which " + gpu.name +
                      " does not have (no \"" + name + "\" peak in its catalog entry); use 16-bit activations (\"" +
                      name + "\" weights alone are weight-only quantisation)");
}

// "precision": {"weights", "activations", "kv_cache"}; each defaults to the model's checkpoint
// (activations: 16-bit, the checkpoint's own when it is 16-bit, else bf16: weight-only).
Precision read_precision(ConfigNode& root, const ModelSpec& model, const GpuSpec& gpu) {
  Precision p;
  p.weights = model.dtype;
  p.activations = is_16_bit(model.dtype) ? model.dtype : DType::kBf16;
  p.kv_cache = model.kv_dtype;
  if (!root.has("precision")) return p;
  ConfigNode node = root.child("precision");
  node.require_object();
  p.weights = read_dtype(node, "weights", {"bf16", "fp16", "fp8", "fp4", "int8", "int4"}, p.weights);
  p.activations = read_dtype(node, "activations", {"bf16", "fp16", "fp8", "fp4"},
                             is_16_bit(p.weights) ? p.weights : DType::kBf16);
  p.kv_cache = read_dtype(node, "kv_cache", {"bf16", "fp16", "fp8"}, p.kv_cache);
  if (!is_16_bit(p.activations) && p.activations != p.weights) {
    node.fail("activations", std::string(dtype_name(p.activations)) + " activations need " +
                                 dtype_name(p.activations) + " weights (a W8A8 / W4A4 GEMM), got weights " +
                                 dtype_name(p.weights));
  }
  if (is_16_bit(p.weights) && p.activations != p.weights) {
    node.fail("activations", std::string("activations ") + dtype_name(p.activations) + " with " +
                                 dtype_name(p.weights) + " weights: 16-bit weights run their GEMMs in their own dtype");
  }
  check_precision(node, "activations", p, gpu);
  node.finish();
  return p;
}

}  // namespace

void skip_documentation(ConfigNode& node) {
  node.has("source");
  node.has("power_source");
  node.has("host_switch_source");
  node.has("description");
  node.has("name");
}

DevicePower read_device_power(ConfigNode& node) {
  DevicePower power;
  power.idle_w = node.quantity("idle_power", Dimension::kWatts, 0.0, true);
  power.active_w = node.quantity("active_power", Dimension::kWatts, power.idle_w, true);
  if (power.active_w < power.idle_w) node.fail("active_power", "is below idle_power");
  return power;
}

NodeSpec read_node(ConfigNode& node, const std::string& name, bool with_calibration) {
  node.require_object();
  NodeSpec spec;
  spec.name = name;
  skip_documentation(node);
  spec.gpus_per_node = node.integer("gpus_per_node", 1, 1024, 8);
  spec.gpus_per_host_switch = node.integer("gpus_per_host_switch", 1, spec.gpus_per_node, 1);
  if (spec.gpus_per_node % spec.gpus_per_host_switch != 0) {
    node.fail("gpus_per_host_switch", "must divide gpus_per_node (" + std::to_string(spec.gpus_per_node) + ")");
  }
  {
    ConfigNode gpu = node.child("gpu");
    spec.gpu = read_gpu(gpu, with_calibration);
  }
  std::string sub;
  ConfigNode cpu = resolve_entry(node, "cpu", kCpuCatalog, "host CPU", &sub);
  spec.cpu = read_cpu(cpu, sub);
  ConfigNode link = resolve_entry(node, "host_link", kHostLinkCatalog, "host link", &sub);
  spec.host_link = read_host_link(link, sub);
  ConfigNode fabric = resolve_entry(node, "fabric", kFabricCatalog, "fabric", &sub);
  spec.fabric = read_fabric(fabric, sub);
  if (node.has("cxl")) {
    ConfigNode cxl = node.child("cxl");
    spec.cxl = read_cxl(cxl);
  }
  if (node.has("ssd")) {
    ConfigNode ssd = node.child("ssd");
    spec.ssd = read_ssd(ssd);
  }
  node.finish();
  return spec;
}

ModelSpec read_model(ConfigNode& node, const std::string& name) {
  node.require_object();
  ModelSpec model;
  model.name = name;
  skip_documentation(node);
  model.hidden = node.integer("hidden", 1, kMaxCount);
  model.layers = node.integer("layers", 1, 100000);
  model.heads = node.integer("heads", 1, 100000);
  model.kv_heads = node.integer("kv_heads", 1, model.heads, model.heads);
  model.head_dim = node.integer("head_dim", 1, 100000, model.hidden / model.heads);
  model.intermediate = node.integer("intermediate", 1, kMaxCount);
  model.vocab = node.integer("vocab", 0, kMaxCount);
  model.max_context = node.integer("max_context", 0, kMaxCount, 0);
  model.tied_embeddings = node.boolean("tied_embeddings", false);
  model.dtype = read_dtype(node, "dtype", {"fp32", "bf16", "fp16", "fp8", "int8", "int4"}, DType::kBf16);
  model.kv_dtype = read_dtype(node, "kv_dtype", {"fp32", "bf16", "fp16", "fp8", "int8", "int4"}, DType::kBf16);
  model.weight_bytes_per_param = dtype_bytes(model.dtype);
  model.kv_bytes_per_element = dtype_bytes(model.kv_dtype);
  if (node.has("moe")) {
    ConfigNode moe = node.child("moe");
    moe.require_object();
    model.moe.experts = moe.integer("experts", 1, 100000);
    model.moe.experts_per_token = moe.integer("experts_per_token", 1, model.moe.experts);
    model.moe.shared_experts = moe.integer("shared_experts", 0, 1000, 0);
    model.moe.expert_intermediate = moe.integer("expert_intermediate", 1, kMaxCount);
    model.moe.dense_layers = moe.integer("dense_layers", 0, model.layers, 0);
    moe.finish();
  }
  if (node.has("mla")) {
    ConfigNode mla = node.child("mla");
    mla.require_object();
    model.mla.kv_lora_rank = mla.integer("kv_lora_rank", 1, kMaxCount);
    model.mla.q_lora_rank = mla.integer("q_lora_rank", 0, kMaxCount, 0);
    model.mla.rope_head_dim = mla.integer("rope_head_dim", 0, 100000);
    model.mla.nope_head_dim = mla.integer("nope_head_dim", 1, 100000);
    model.mla.v_head_dim = mla.integer("v_head_dim", 1, 100000);
    mla.finish();
  } else if (model.heads % model.kv_heads != 0) {
    node.fail("kv_heads", "kv_heads " + std::to_string(model.kv_heads) + " does not divide heads " +
                              std::to_string(model.heads));
  }
  node.finish();
  return model;
}

EngineProfile read_engine(ConfigNode& node, const std::string& name) {
  node.require_object();
  EngineProfile engine;
  engine.name = name;
  node.has("source");
  node.has("name");
  engine.description = node.string("description", "");
  engine.version = node.string("version", "");
  ConfigNode graphs = node.child("cuda_graphs");
  graphs.require_object();
  engine.graph_prefill = graphs.boolean("prefill", false);
  engine.graph_decode = graphs.boolean("decode", false);
  graphs.finish();
  engine.prefill_repeat_kv = node.boolean("prefill_repeat_kv", false);
  engine.decode_split_kv = node.boolean("decode_split_kv", false);
  engine.attention_launches = node.integer("attention_launches", 1, 100, 1);
  engine.moe_experts =
      node.choice("moe_experts", {"grouped", "sequential"}, "grouped") == "grouped" ? MoeExperts::kGrouped
                                                                                    : MoeExperts::kSequential;
  engine.host_iteration_overhead = node.boolean("host_iteration_overhead", false);
  engine.prologue = read_kernels(node, "prologue");
  engine.layer = read_kernels(node, "layer");
  engine.epilogue = read_kernels(node, "epilogue");
  if (engine.layer.empty()) node.fail("layer", "an engine needs at least one kernel per layer");
  node.finish();
  return engine;
}

// "expert_routing": "balanced" | {"zipf": s} | {"frequencies": [one per routed expert]}.
static ExpertRouting read_expert_routing(ConfigNode& plan, const ModelSpec& model) {
  ConfigNode node = plan.child("expert_routing");
  ExpertRouting routing;
  if (node.is_string()) {
    if (node.as_string() != "balanced") {
      node.fail("unknown expert routing '" + node.as_string() +
                "'; allowed: \"balanced\", {\"zipf\": s}, {\"frequencies\": [...]}");
    }
    return routing;
  }
  if (!node.is_object() || node.size() != 1) {
    node.fail("expected \"balanced\", {\"zipf\": s} or {\"frequencies\": [one per routed expert]}, got " +
              describe_json_value(node.value()));
  }
  if (node.has("zipf")) {
    routing.kind = ExpertRouting::Kind::kZipf;
    // s = 0 is balanced; beyond ~10 the hottest experts take every token already.
    routing.zipf_s = node.number("zipf", 0.0, 100.0);
  } else if (node.has("frequencies")) {
    routing.kind = ExpertRouting::Kind::kFrequencies;
    ConfigNode list = node.child("frequencies");
    if (!list.is_array() || list.size() != static_cast<std::size_t>(model.moe.experts)) {
      list.fail("expected an array of " + std::to_string(model.moe.experts) +
                " numbers (one per routed expert), got " + describe_json_value(list.value()));
    }
    int64_t positive = 0;
    for (std::size_t e = 0; e < list.size(); ++e) {
      routing.frequencies.push_back(list.element(e).as_number(0.0, 1e300));
      if (routing.frequencies.back() > 0.0) ++positive;
    }
    if (positive < model.moe.experts_per_token) {
      list.fail(std::to_string(positive) + " of the " + std::to_string(model.moe.experts) +
                " experts have a positive frequency, but each token picks " +
                std::to_string(model.moe.experts_per_token) + " distinct experts");
    }
  }
  node.finish();
  return routing;
}

ParallelPlan read_plan(ConfigNode& node, const ModelSpec& model, const NodeSpec& hardware) {
  node.require_object();
  ParallelPlan plan;
  plan.tp = node.integer("tp", 1, 1024, 1);
  plan.pp = node.integer("pp", 1, 1024, 1);
  // Each replica holds its own KV block tables and prefix index (MBs each): 1,024 replicas bound a
  // run to a few GB of memory.
  plan.dp = node.integer("dp", 1, 1024, 1);
  plan.ep = node.integer("ep", 1, 1024, 1);
  if (model.heads % plan.tp != 0) {
    node.fail("tp", "tp " + std::to_string(plan.tp) + " does not divide the model's " + std::to_string(model.heads) +
                        " attention heads");
  }
  const int64_t per_node = hardware.gpus_per_node;
  if (plan.tp > per_node && plan.tp % per_node != 0) {
    node.fail("tp", "tp " + std::to_string(plan.tp) + " spans " + hardware.name + " nodes of " +
                        std::to_string(per_node) + " GPUs unevenly (a group larger than a node fills whole nodes)");
  }
  const std::string model_name = model.name.empty() ? std::string("the model") : model.name;
  if (plan.ep > 1) {
    if (!model.is_moe()) {
      node.fail("ep", "ep " + std::to_string(plan.ep) + " needs a mixture-of-experts model (" + model_name +
                          " is dense)");
    }
    if (model.moe.experts % plan.ep != 0) {
      node.fail("ep", "ep " + std::to_string(plan.ep) + " does not divide the model's " +
                          std::to_string(model.moe.experts) + " routed experts");
    }
    if (plan.tp % plan.ep != 0 && plan.ep % plan.tp != 0) {
      node.fail("ep", "ep " + std::to_string(plan.ep) + " and tp " + std::to_string(plan.tp) +
                          ": one must divide the other (a stage runs on max(tp, ep) GPUs)");
    }
    if (plan.ep > per_node && plan.ep % per_node != 0) {
      node.fail("ep", "ep " + std::to_string(plan.ep) + " spans " + hardware.name + " nodes of " +
                          std::to_string(per_node) + " GPUs unevenly (a group larger than a node fills whole nodes)");
    }
  }
  if (node.has("expert_routing")) {
    if (!model.is_moe()) {
      node.fail("expert_routing", "expert_routing needs a mixture-of-experts model (" + model_name + " is dense)");
    }
    plan.routing = read_expert_routing(node, model);
  }
  const int64_t gpus = plan.gpus_per_replica();
  const int64_t stage = plan.gpus_per_stage();
  if (gpus > per_node && stage < per_node && per_node % stage != 0) {
    node.fail("pp", "stages of " + std::to_string(stage) + " GPUs do not divide " + hardware.name + " nodes of " +
                        std::to_string(per_node) + " GPUs: a stage would straddle two nodes");
  }
  if (gpus > per_node && !(hardware.fabric.inter_node_send_recv_bytes_per_s > 0.0)) {
    node.fail(plan.pp > 1 ? "pp" : plan.ep > plan.tp ? "ep" : "tp",
              std::string(plan.ep > plan.tp ? "ep" : "tp") + " x pp = " + std::to_string(gpus) + " GPUs spans " +
                        std::to_string((gpus + hardware.gpus_per_node - 1) / hardware.gpus_per_node) + " " +
                        hardware.name + " nodes, but fabric \"" + hardware.fabric.name +
                        "\" has no inter-node numbers (inter_node_send_recv_latency, inter_node_send_recv_bandwidth)");
  }
  if (plan.pp > model.layers) {
    node.fail("pp", "pp " + std::to_string(plan.pp) + " exceeds the model's " + std::to_string(model.layers) +
                        " layers");
  }
  node.finish();
  return plan;
}

NodeSpec load_node(const std::string& name, bool with_calibration) {
  ConfigNode node = load_entry(kHardwareCatalog, name, "hardware", "hardware");
  return read_node(node, name, with_calibration);
}

FabricSpec load_fabric(const std::string& name) {
  ConfigNode node = load_entry(kFabricCatalog, name, "fabric", "fabric");
  return read_fabric(node, name);
}

ModelSpec load_model(const std::string& name) {
  ConfigNode node = load_entry(kModelCatalog, name, "model", "model");
  return read_model(node, name);
}

EngineProfile load_engine(const std::string& name) {
  ConfigNode node = load_entry(kEngineCatalog, name, "engine", "engine");
  return read_engine(node, name);
}

Deployment read_deployment(ConfigNode& root) {
  Deployment deployment;
  std::string name;
  ConfigNode hardware = resolve_entry(root, "hardware", kHardwareCatalog, "hardware", &name);
  deployment.node = read_node(hardware, name);
  ConfigNode model = resolve_entry(root, "model", kModelCatalog, "model", &name);
  deployment.model = read_model(model, name);
  ConfigNode engine = resolve_entry(root, "engine", kEngineCatalog, "engine", &name);
  deployment.engine = read_engine(engine, name);
  set_precision(deployment, read_precision(root, deployment.model, deployment.node.gpu));
  if (root.has("plan")) {
    ConfigNode plan = root.child("plan");
    deployment.plan = read_plan(plan, deployment.model, deployment.node);
  }
  if (root.has("collectives")) {
    ConfigNode c = root.child("collectives");
    c.require_object();
    deployment.collectives = c.choice("impl", Registry<CollectiveModel>::instance().names(), "alpha-beta");
    deployment.collectives_params =
        read_params(c, Registry<CollectiveModel>::instance().find(deployment.collectives)->info.params);
    c.finish();
  }
  return deployment;
}

DisaggregatedPlan read_disaggregation(ConfigNode& root, const Deployment& deployment) {
  ConfigNode node = root.child("disaggregation");
  node.require_object();
  if (root.has("plan")) {
    node.fail("give either \"plan\" or \"disaggregation\" (which holds one plan per pool: \"prefill\" and "
              "\"decode\")");
  }
  DisaggregatedPlan plan;
  // A pool is a plan, optionally on hardware of its own (a catalog name or an inline node).
  auto read_pool = [&](const char* key, NodeSpec* hardware) {
    ConfigNode pool = node.child(key);
    pool.require_object();
    *hardware = deployment.node;
    if (pool.has("hardware")) {
      std::string name;
      ConfigNode entry = resolve_entry(pool, "hardware", kHardwareCatalog, "hardware", &name);
      *hardware = read_node(entry, name);
      check_precision(pool, "hardware", deployment.precision, hardware->gpu);
    }
    return read_plan(pool, deployment.model, *hardware);
  };
  plan.prefill = read_pool("prefill", &plan.prefill_node);
  plan.decode = read_pool("decode", &plan.decode_node);
  // Off a cluster each replica's KV link must be given; on one, its network carries the KV and
  // the run driver refuses a kv_link.
  if (node.has("kv_link") || !root.has("cluster")) {
    ConfigNode link = node.child("kv_link");
    link.require_object();
    skip_documentation(link);
    plan.kv_link_bytes_per_s = link.quantity("bandwidth", Dimension::kBytesPerSecond);
    plan.kv_link_latency_s = link.quantity("latency", Dimension::kSeconds, 0.0, true);
    link.finish();
  }
  node.has("decode_router");  // a serving choice: the run driver reads it
  node.finish();
  return plan;
}

}  // namespace servesim

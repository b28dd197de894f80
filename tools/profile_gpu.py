#!/usr/bin/env python3
"""Measure the GPU microbenchmarks servesim calibrates from, on your own GPU.

Writes one JSON file in the format of ../shared/calibration/*.json (the format
`servesim calibrate FILE.json` reads):

  env              GPU name, SM count, memory, L2, nvidia-smi line, host CPU
  gemm             y = x W^T (x [M, K], W [N, K], bf16) for Llama-shaped layers, M = 1 .. 8192
                   ms        one call timed with CUDA events (includes the host dispatch of
                             that call when the GPU work is shorter: a ~20 us floor)
                   graph_ms  GPU-only time of one call: R back-to-back calls captured into one
                             CUDA graph, median replay time / R (W rotated over >= 3 copies, at
                             least twice the L2 in total, so W is not served from L2); R is chosen
                             so that one replay is ~2 ms of GPU work (3 .. 200 calls)
                   graph_calls  R
  gemm_8192_tflops one 8192^3 product
  hbm_copy_GBps_rw device-to-device copy (bytes read + written per second)
  hbm_read_GBps    a sum reduction (bytes read per second)
  host_link        pinned and pageable host<->device copies, both directions
  launch           eager_tiny_op_us (host cost of one tiny eager op: x.add_(1.0) in a loop),
                   graph_tiny_kernel_us (GPU time of one tiny kernel replayed from a CUDA graph),
                   and one decoder layer of the reference engine run eagerly (Llama-3-8B shapes,
                   decode of B=1 sequence with C=1024 cached tokens, so the host dominates):
                   eager_engine_layer_us        host wall time of one eager forward pass of the
                                                layer under torch.inference_mode (perf_counter over
                                                many passes, after a synchronize; the GPU finishes
                                                in its shadow)
                   eager_engine_ops_per_layer   aten ops the layer dispatches that launch work
                                                (TorchDispatchMode count, views excluded)
                   eager_engine_aten_ops_per_layer  every aten op dispatched, views included
                   eager_engine_ops             the names of the launching ops (for reading)
                   eager_engine_op_us           eager_engine_layer_us / eager_engine_ops_per_layer:
                                                host cost per launched op in a real layer (what an
                                                eager engine pays per kernel)
                   eager_engine_layer_gpu_us    GPU time of the same layer replayed from a CUDA
                                                graph (must be well under the host time)
                   eager_engine_kernels_per_layer  GPU kernels the profiler saw (when available)
  attention        causal prefill SDPA (32 heads x 128) and decode attention (32 query heads,
                   8 KV heads) as grouped bmm and as SDPA with enable_gqa; every row has the
                   single-call time (ms, bmm_ms, sdpa_ms) and the GPU-only time from CUDA-graph
                   replay (graph_ms for prefill; bmm_graph_ms, sdpa_graph_ms and graph_ms = that
                   of decode_attention_impl for decode), inputs rotated over enough copies that
                   they are not served from L2
  power_limit_w, idle_power_w (from NVML / nvidia-smi when available)
  llama3_8b_*      (section whole_model) whole Llama-3-8B iterations of the reference engine
                   (random bf16 weights, ~16 GB): llama3_8b_prefill and llama3_8b_decode (ms of one
                   iteration replayed from a CUDA graph), llama3_8b_eager_vs_graph (the same
                   iteration launched op by op from Python, eager_ms, next to graph_ms),
                   llama3_8b_arch, llama3_8b_weights_bytes: the tables of
                   ../shared/calibration/h200_microbench_and_llama3_8b.json, so that
                   `servesim calibrate` fits the eager launch cost on this host and
                   `build/tests/execution/fidelity_bench FILE NODE` compares servesim with this GPU

Usage: python3 tools/profile_gpu.py --out my_gpu.json [--quick] [--only SECTION[,SECTION]]
Then:  servesim calibrate my_gpu.json --hardware h100-sxm --out models/execution/calibrations/my-gpu.json

Sections (--only): gemm, gemm_8192, hbm, host_link, launch, attention, whole_model. A file written
with --only is partial; `servesim calibrate` needs gemm, hbm, launch and attention.

Requires PyTorch with CUDA. Timings are medians of repeated runs measured with CUDA events,
except the eager host costs (time.perf_counter around many eager calls).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import time

try:
    import torch
    import torch.nn.functional as F
    from torch.utils._python_dispatch import TorchDispatchMode
except ImportError as error:  # pragma: no cover - depends on the machine
    raise SystemExit("profile_gpu.py: needs PyTorch with CUDA (import torch failed: %s)" % error)

GEMM_SHAPES = [
    # name, N, K: Llama-3-8B layers, Llama-3-70B TP=8 shards, a 128k-vocabulary LM head
    ("l8b_qkv", 6144, 4096),
    ("l8b_o", 4096, 4096),
    ("l8b_gateup", 28672, 4096),
    ("l8b_down", 4096, 14336),
    ("l70b_tp8_qkv", 1280, 8192),
    ("l70b_tp8_o", 8192, 1024),
    ("l70b_tp8_gateup", 7168, 8192),
    ("l70b_tp8_down", 8192, 3584),
    ("lmhead_128k", 128256, 4096),
]
GEMM_M = [1, 8, 32, 128, 512, 2048, 8192]
PREFILL_S = [512, 2048, 8192, 32768]
DECODE_BC = [(1, 1024), (1, 16384), (16, 2048), (64, 2048), (256, 1024), (32, 8192)]
HOST_LINK_MIB = [(1, True), (8, True), (64, True), (256, True), (256, False), (1024, True)]
SECTIONS = ["gemm", "gemm_8192", "hbm", "host_link", "launch", "attention", "whole_model"]
LLAMA3_8B = {"hidden": 4096, "layers": 32, "heads": 32, "kv_heads": 8, "head_dim": 128, "intermediate": 14336,
             "vocab": 128256, "tied_embeddings": False, "dtype": "bf16"}
# (kind, B, S or C): the shapes of the shared H200 tables (a subset), graph-replayed and eager.
WHOLE_MODEL_GRAPH = [("prefill", 1, 128), ("prefill", 1, 512), ("prefill", 1, 2048), ("prefill", 1, 8192),
                     ("prefill", 4, 1024), ("decode", 1, 1024), ("decode", 8, 1024), ("decode", 32, 1024),
                     ("decode", 64, 1024), ("decode", 128, 1024), ("decode", 256, 1024), ("decode", 32, 4096)]
WHOLE_MODEL_EAGER = [("decode", 1, 1024), ("decode", 64, 1024), ("prefill", 1, 128), ("prefill", 1, 2048)]
GRAPH_TARGET_MS = 2.0  # GPU work per CUDA-graph replay
GRAPH_MIN_CALLS, GRAPH_MAX_CALLS = 3, 200


def median_ms(fn, repeats=20, warmup=3):
    """Median time of one call of fn() in milliseconds, timed with CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def graph_calls_for(single_ms):
    """Calls per CUDA graph so that one replay is about GRAPH_TARGET_MS of GPU work."""
    return max(GRAPH_MIN_CALLS, min(GRAPH_MAX_CALLS, int(round(GRAPH_TARGET_MS / max(single_ms, 1e-4)))))


def graph_ms(calls, count, repeats=10):
    """GPU-only time of one call in milliseconds.

    `calls` is a list of equivalent callables (each on its own copy of the inputs);
    `count` of them, rotated, are captured back to back into one CUDA graph, and the
    median replay time (CUDA events) is divided by `count`. No host dispatch is inside
    the replay, so this is the time the GPU needs when kernels are queued back to back,
    as inside a graph-replayed (or host-ahead) engine iteration.
    """
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):  # warm up off the capture (cuBLAS handles, workspaces)
        for fn in calls:
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(count):
            calls[i % len(calls)]()
    ms = median_ms(graph.replay, repeats=repeats, warmup=2) / count
    del graph
    torch.cuda.synchronize()
    return ms


def copies_beyond_l2(bytes_per_copy, minimum=1, maximum=64):
    """How many copies of an input, rotated, keep it from being served from L2 (2x L2 in total)."""
    l2 = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 0) or (64 << 20)
    needed = -(-2 * l2 // max(1, int(bytes_per_copy)))
    return max(minimum, min(maximum, needed))


def nvidia_smi():
    query = ("name,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max,"
             "power.limit,power.draw,clocks.max.sm,clocks.max.memory,clocks.current.sm,driver_version")
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=" + query, "--format=csv"], check=True,
                              capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def power_watts(field):
    """power.limit or power.draw of GPU 0 in watts, or None."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=" + field, "--format=csv,noheader,nounits", "-i", "0"],
                             check=True, capture_output=True, text=True, timeout=30).stdout
        return float(out.strip().splitlines()[0])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def bench_env():
    props = torch.cuda.get_device_properties(0)
    return {
        "torch": torch.__version__,
        "gpu": props.name,
        "sms": props.multi_processor_count,
        "mem_bytes": props.total_memory,
        "l2_bytes": getattr(props, "L2_cache_size", 0),
        "nvidia_smi": nvidia_smi(),
        "cpu": cpu_name(),
        "nproc": os.cpu_count(),
    }


def bench_gemm(ms_list):
    rows = []
    for name, n, k in GEMM_SHAPES:
        # three weight copies rotated so W is not served from L2
        weights = [torch.randn(n, k, device="cuda", dtype=torch.bfloat16) for _ in range(3)]
        # the graph-replayed calls rotate over the same 3 copies, plus more if 3 fit in L2
        graph_weights = weights + [torch.randn(n, k, device="cuda", dtype=torch.bfloat16)
                                   for _ in range(copies_beyond_l2(2 * n * k, minimum=3) - 3)]
        for m in ms_list:
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            state = {"i": 0}

            def run():
                state["i"] = (state["i"] + 1) % 3
                torch.matmul(x, weights[state["i"]].t())

            ms = median_ms(run)
            calls = graph_calls_for(ms)
            g_ms = graph_ms([lambda w=w: torch.matmul(x, w.t()) for w in graph_weights], calls)
            flops = 2.0 * m * n * k
            bytes_moved = 2.0 * (m * k + n * k + m * n)
            rows.append({"name": name, "M": m, "N": n, "K": k, "ms": ms,
                         "tflops": flops / (ms * 1e-3) / 1e12, "gbps": bytes_moved / (ms * 1e-3) / 1e9,
                         "graph_ms": g_ms, "graph_calls": calls})
            del x
            torch.cuda.empty_cache()
        del weights, graph_weights
        torch.cuda.empty_cache()
    return rows


def bench_gemm_8192():
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    ms = median_ms(lambda: torch.matmul(a, b))
    return 2.0 * 8192 ** 3 / (ms * 1e-3) / 1e12


def bench_hbm():
    n = 1 << 30  # 1 GiB
    src = torch.empty(n, device="cuda", dtype=torch.uint8)
    dst = torch.empty_like(src)
    copy_ms = median_ms(lambda: dst.copy_(src))
    floats = src.view(torch.float32)
    read_ms = median_ms(lambda: floats.sum())
    return 2.0 * n / (copy_ms * 1e-3) / 1e9, n / (read_ms * 1e-3) / 1e9


def bench_host_link():
    rows = []
    for mib, pinned in HOST_LINK_MIB:
        n = mib << 20
        host = torch.empty(n, dtype=torch.uint8, pin_memory=pinned)
        dev = torch.empty(n, dtype=torch.uint8, device="cuda")
        h2d = median_ms(lambda: dev.copy_(host, non_blocking=pinned), repeats=10)
        d2h = median_ms(lambda: host.copy_(dev, non_blocking=pinned), repeats=10)
        rows.append({"MiB": mib, "pinned": pinned, "h2d_ms": h2d, "d2h_ms": d2h,
                     "h2d_GBps": n / (h2d * 1e-3) / 1e9, "d2h_GBps": n / (d2h * 1e-3) / 1e9})
        del host, dev
    return rows


def bench_launch():
    x = torch.zeros(16, device="cuda")
    ops = 2000
    torch.cuda.synchronize()
    # Host cost of an eager op: many tiny ops back to back, host-bound.
    for _ in range(100):
        x.add_(1.0)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(ops):
        x.add_(1.0)
    torch.cuda.synchronize()
    eager_us = (time.perf_counter() - t0) / ops * 1e6
    # GPU time of a tiny kernel replayed from a CUDA graph.
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            x.add_(1.0)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    kernels = 500
    with torch.cuda.graph(graph):
        for _ in range(kernels):
            x.add_(1.0)
    graph_ms = median_ms(graph.replay, repeats=20)
    return {"eager_tiny_op_us": eager_us, "graph_tiny_kernel_us": graph_ms * 1e3 / kernels}


def bench_attention(prefill_s, decode_bc):
    rows = []
    heads, kv_heads, head_dim = 32, 8, 128
    for s in prefill_s:
        q = torch.randn(1, heads, s, head_dim, device="cuda", dtype=torch.bfloat16)
        k = torch.randn_like(q)
        v = torch.randn_like(q)
        ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
        copies = [(q, k, v)] + [(torch.randn_like(q), torch.randn_like(q), torch.randn_like(q))
                                for _ in range(copies_beyond_l2(3 * q.numel() * 2) - 1)]
        g_ms = graph_ms([lambda t=t: F.scaled_dot_product_attention(t[0], t[1], t[2], is_causal=True)
                         for t in copies], graph_calls_for(ms))
        flops = 4.0 * s * s * heads * head_dim / 2.0  # causal half
        rows.append({"kind": "prefill_causal", "B": 1, "S": s, "ms": ms, "tflops": flops / (ms * 1e-3) / 1e12,
                     "graph_ms": g_ms, "graph_tflops": flops / (g_ms * 1e-3) / 1e12})
        del q, k, v, copies
        torch.cuda.empty_cache()
    group = heads // kv_heads
    for b, c in decode_bc:
        kv_bytes = 2 * b * kv_heads * c * head_dim * 2
        copies = []
        for _ in range(copies_beyond_l2(kv_bytes)):
            copies.append((torch.randn(b, heads, 1, head_dim, device="cuda", dtype=torch.bfloat16),
                           torch.randn(b, kv_heads, c, head_dim, device="cuda", dtype=torch.bfloat16),
                           torch.randn(b, kv_heads, c, head_dim, device="cuda", dtype=torch.bfloat16)))
        q, k, v = copies[0]

        def bmm(q, k, v):
            qg = q.view(b, kv_heads, group, head_dim)
            scores = torch.matmul(qg, k.transpose(-1, -2)) / head_dim ** 0.5
            return torch.matmul(torch.softmax(scores.float(), dim=-1).to(v.dtype), v)

        def sdpa(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)

        bmm_ms = median_ms(lambda: bmm(q, k, v))
        sdpa_ms = median_ms(lambda: sdpa(q, k, v))
        bmm_graph_ms = graph_ms([lambda t=t: bmm(*t) for t in copies], graph_calls_for(bmm_ms))
        sdpa_graph_ms = graph_ms([lambda t=t: sdpa(*t) for t in copies], graph_calls_for(sdpa_ms))
        rows.append({"kind": "decode", "B": b, "C": c, "kv_bytes": kv_bytes,
                     "bmm_ms": bmm_ms, "bmm_GBps": kv_bytes / (bmm_ms * 1e-3) / 1e9,
                     "sdpa_ms": sdpa_ms, "sdpa_GBps": kv_bytes / (sdpa_ms * 1e-3) / 1e9,
                     "bmm_graph_ms": bmm_graph_ms, "sdpa_graph_ms": sdpa_graph_ms})
        del q, k, v, copies
        torch.cuda.empty_cache()
    return rows


def _tensors(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _storage_ptr(t):
    storage = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
    return storage.data_ptr()


def _mutates(func):
    return any(a.alias_info is not None and a.alias_info.is_write for a in func._schema.arguments)


class _OpCounter(TorchDispatchMode):
    """Counts the aten ops dispatched below autograd (what the host really runs),
    and those among them that launch GPU work: ops that write an input in place,
    or return a tensor that is not an alias of an input (views, reshapes without
    a copy, no-op casts make metadata only)."""

    def __init__(self):
        super().__init__()
        self.ops = []
        self.launched = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        self.ops.append(func)
        inputs = {_storage_ptr(t) for t in _tensors((args, kwargs))}
        outputs = _tensors(out)
        fresh = any(_storage_ptr(t) not in inputs for t in outputs)
        if func._schema.name not in _METADATA_OPS and (_mutates(func) or fresh):
            self.launched.append(func)
        return out


# aten ops that only allocate or make metadata (no kernel) though their output is a new tensor
_METADATA_OPS = {"aten::empty", "aten::empty_strided", "aten::empty_like", "aten::lift_fresh"}


def reference_layer(batch=1, context=1024):
    """One Llama-3-8B decoder layer of the reference engine, as
    ../shared/calibration/h200_microbench_and_llama3_8b.json reference_engine.description
    states it, for decode of `batch` sequences with `context` cached tokens each.
    Returns forward(), which runs the layer once on a fixed input (eagerly)."""
    hidden, heads, kv_heads, head_dim, ffn = 4096, 32, 8, 128, 14336
    eps, dtype = 1e-5, torch.bfloat16
    q_width, kv_width = heads * head_dim, kv_heads * head_dim

    def weight(n, k):
        return torch.randn(n, k, device="cuda", dtype=dtype) * 0.02

    w_qkv, w_o = weight(q_width + 2 * kv_width, hidden), weight(hidden, q_width)
    w_gate_up, w_down = weight(2 * ffn, hidden), weight(hidden, ffn)
    norm1 = torch.ones(hidden, device="cuda", dtype=dtype)
    norm2 = torch.ones(hidden, device="cuda", dtype=dtype)
    # contiguous per-sequence KV cache with room for the new token
    k_cache = torch.zeros(batch, kv_heads, context + 1, head_dim, device="cuda", dtype=dtype)
    v_cache = torch.zeros_like(k_cache)
    inv_freq = 1.0 / (500000.0 ** (torch.arange(0, head_dim, 2, device="cuda", dtype=torch.float32) / head_dim))
    angles = torch.outer(torch.arange(context + 1, device="cuda", dtype=torch.float32), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    cos_table, sin_table = angles.cos().to(dtype), angles.sin().to(dtype)
    position = context  # the new token's position
    x_in = torch.randn(batch, 1, hidden, device="cuda", dtype=dtype)

    def rms_norm(x, w):
        # fp32, op by op: cast, square, mean, + eps, rsqrt, multiply, cast back, scale
        xf = x.float()
        variance = (xf * xf).mean(-1, keepdim=True)
        return (xf * torch.rsqrt(variance + eps)).to(dtype) * w

    def rotate_half(t):
        half = t.shape[-1] // 2
        return torch.cat((-t[..., half:], t[..., :half]), dim=-1)

    def rope(t, cos, sin):  # unfused elementwise ops
        return t * cos + rotate_half(t) * sin

    def forward():
        x = x_in
        h = rms_norm(x, norm1)
        qkv = torch.matmul(h, w_qkv.t())  # fused QKV GEMM
        q, k, v = qkv.split([q_width, kv_width, kv_width], dim=-1)
        q = q.view(batch, 1, heads, head_dim).transpose(1, 2)
        k = k.view(batch, 1, kv_heads, head_dim).transpose(1, 2)
        v = v.view(batch, 1, kv_heads, head_dim).transpose(1, 2)
        cos, sin = cos_table[position:position + 1], sin_table[position:position + 1]
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k_cache[:, :, position:position + 1].copy_(k)  # KV copy into the contiguous cache
        v_cache[:, :, position:position + 1].copy_(v)
        attn = F.scaled_dot_product_attention(q, k_cache, v_cache, enable_gqa=True)
        attn = attn.transpose(1, 2).reshape(batch, 1, q_width)
        x = x + torch.matmul(attn, w_o.t())  # O-projection, residual
        h = rms_norm(x, norm2)
        gate, up = torch.matmul(h, w_gate_up.t()).split([ffn, ffn], dim=-1)  # fused gate+up
        return x + torch.matmul(F.silu(gate) * up, w_down.t())  # SiLU(gate)*up, down, residual

    return forward


def reference_weights():
    """Random bf16 weights of Llama-3-8B laid out as the reference engine uses them."""
    cfg, dtype = LLAMA3_8B, torch.bfloat16
    hidden, ffn, hd = cfg["hidden"], cfg["intermediate"], cfg["head_dim"]
    q_width, kv_width = cfg["heads"] * hd, cfg["kv_heads"] * hd

    def weight(n, k):
        return torch.randn(n, k, device="cuda", dtype=dtype) * 0.02

    layers = []
    for _ in range(cfg["layers"]):
        layers.append({"qkv": weight(q_width + 2 * kv_width, hidden), "o": weight(hidden, q_width),
                       "gate_up": weight(2 * ffn, hidden), "down": weight(hidden, ffn),
                       "n1": torch.ones(hidden, device="cuda", dtype=dtype),
                       "n2": torch.ones(hidden, device="cuda", dtype=dtype)})
    return {"layers": layers, "embed": weight(cfg["vocab"], hidden), "lm_head": weight(cfg["vocab"], hidden),
            "norm": torch.ones(hidden, device="cuda", dtype=dtype)}


def weights_bytes(weights):
    tensors = [weights["embed"], weights["lm_head"], weights["norm"]]
    for layer in weights["layers"]:
        tensors += list(layer.values())
    return sum(t.numel() * t.element_size() for t in tensors)


def reference_model(weights, kind, batch, length):
    """One whole iteration of the reference engine (reference_engine.description of the shared H200
    file): `batch` sequences of `length` new tokens (prefill, no earlier context) or one new token
    each on `length` cached ones (decode). Returns forward(), which runs it once."""
    cfg, dtype, eps = LLAMA3_8B, torch.bfloat16, 1e-5
    heads, kv_heads, hd, ffn = cfg["heads"], cfg["kv_heads"], cfg["head_dim"], cfg["intermediate"]
    q_width, kv_width = heads * hd, kv_heads * hd
    new, context = (length, 0) if kind == "prefill" else (1, length)
    caches = [(torch.zeros(batch, kv_heads, context + new, hd, device="cuda", dtype=dtype),
               torch.zeros(batch, kv_heads, context + new, hd, device="cuda", dtype=dtype))
              for _ in weights["layers"]]
    inv_freq = 1.0 / (500000.0 ** (torch.arange(0, hd, 2, device="cuda", dtype=torch.float32) / hd))
    angles = torch.outer(torch.arange(context, context + new, device="cuda", dtype=torch.float32), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    cos, sin = angles.cos().to(dtype), angles.sin().to(dtype)
    tokens = torch.randint(0, cfg["vocab"], (batch, new), device="cuda")

    def rms_norm(x, w):  # fp32, op by op
        xf = x.float()
        return (xf * torch.rsqrt((xf * xf).mean(-1, keepdim=True) + eps)).to(dtype) * w

    def rotate_half(t):
        half = t.shape[-1] // 2
        return torch.cat((-t[..., half:], t[..., :half]), dim=-1)

    def forward():
        x = weights["embed"][tokens]  # embedding gather
        for layer, (k_cache, v_cache) in zip(weights["layers"], caches):
            h = rms_norm(x, layer["n1"])
            q, k, v = torch.matmul(h, layer["qkv"].t()).split([q_width, kv_width, kv_width], dim=-1)
            q = q.view(batch, new, heads, hd).transpose(1, 2)
            k = k.view(batch, new, kv_heads, hd).transpose(1, 2)
            v = v.view(batch, new, kv_heads, hd).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin  # RoPE, unfused
            k = k * cos + rotate_half(k) * sin
            k_cache[:, :, context:context + new].copy_(k)
            v_cache[:, :, context:context + new].copy_(v)
            if kind == "prefill":  # K/V repeated to all query heads, causal FlashAttention
                group = heads // kv_heads
                attn = F.scaled_dot_product_attention(q, k_cache.repeat_interleave(group, dim=1),
                                                      v_cache.repeat_interleave(group, dim=1), is_causal=True)
            else:
                attn = F.scaled_dot_product_attention(q, k_cache, v_cache, enable_gqa=True)
            x = x + torch.matmul(attn.transpose(1, 2).reshape(batch, new, q_width), layer["o"].t())
            h = rms_norm(x, layer["n2"])
            gate, up = torch.matmul(h, layer["gate_up"].t()).split([ffn, ffn], dim=-1)
            x = x + torch.matmul(F.silu(gate) * up, layer["down"].t())
        last = x[:, -1, :]  # the sampled token of each sequence
        return torch.matmul(rms_norm(last, weights["norm"]), weights["lm_head"].t()).argmax(-1)

    return forward


def graph_replay_ms(forward, repeats=10):
    """Median time of one replay of forward() captured as a CUDA graph (CUDA events)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            forward()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        forward()
    return median_ms(graph.replay, repeats=repeats, warmup=2)


def bench_whole_model(quick):
    """Whole Llama-3-8B iterations of the reference engine, graph-replayed and eager."""
    graph_cases = WHOLE_MODEL_GRAPH[:4] if quick else WHOLE_MODEL_GRAPH
    eager_cases = WHOLE_MODEL_EAGER[:2] if quick else WHOLE_MODEL_EAGER
    out = {"llama3_8b_arch": dict(LLAMA3_8B), "llama3_8b_prefill": [], "llama3_8b_decode": [],
           "llama3_8b_eager_vs_graph": []}
    with torch.inference_mode():
        weights = reference_weights()
        out["llama3_8b_weights_bytes"] = weights_bytes(weights)
        for kind, batch, length in graph_cases + [c for c in eager_cases if c not in graph_cases]:
            forward = reference_model(weights, kind, batch, length)
            graph = graph_replay_ms(forward)
            segs = [[kind, batch, length]]
            if (kind, batch, length) in graph_cases:
                table = "llama3_8b_prefill" if kind == "prefill" else "llama3_8b_decode"
                out[table].append({"segs": segs, "ms": graph, "tokens": batch * (length if kind == "prefill" else 1)})
            if (kind, batch, length) in eager_cases:
                out["llama3_8b_eager_vs_graph"].append({"segs": segs, "eager_ms": median_ms(forward, repeats=10),
                                                        "graph_ms": graph})
            print("profile_gpu.py: whole model %s %dx%d: graph %.3f ms" % (kind, batch, length, graph))
            del forward
            torch.cuda.empty_cache()
    return out


def bench_eager_engine(passes):
    """Host cost per launched op of the reference engine's own layer, run eagerly."""
    out = {}
    with torch.inference_mode():
        forward = reference_layer()
        for _ in range(20):
            forward()
        torch.cuda.synchronize()
        counter = _OpCounter()
        with counter:
            forward()
        torch.cuda.synchronize()
        launched = counter.launched
        samples = []
        for _ in range(5):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(passes):
                forward()
            torch.cuda.synchronize()
            samples.append((time.perf_counter() - t0) / passes * 1e6)
        layer_us = statistics.median(samples)
        out["eager_engine_layer_us"] = layer_us
        out["eager_engine_ops_per_layer"] = len(launched)
        out["eager_engine_aten_ops_per_layer"] = len(counter.ops)
        out["eager_engine_op_us"] = layer_us / max(1, len(launched))
        out["eager_engine_ops"] = sorted({str(f) for f in launched})
        # GPU time of the same layer: replayed from a CUDA graph, so the host is out of it.
        gpu_ms = graph_ms([forward], 20)
        out["eager_engine_layer_gpu_us"] = gpu_ms * 1e3
        if gpu_ms * 1e3 > 0.8 * layer_us:
            print("profile_gpu.py: warning: the eager layer is not host bound (GPU %.1f us, host %.1f us per pass);"
                  " eager_engine_op_us overstates the host cost" % (gpu_ms * 1e3, layer_us))
        try:  # kernels the GPU ran in one eager pass, as a cross-check of the op count
            from torch.profiler import ProfilerActivity, profile
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                forward()
                torch.cuda.synchronize()
            kernels = sum(e.count for e in prof.key_averages()
                          if getattr(e, "device_type", None) == torch.autograd.DeviceType.CUDA)
            if kernels > 0:
                out["eager_engine_kernels_per_layer"] = kernels
        except Exception as error:  # the profiler is optional here (CUPTI may be missing)
            print("profile_gpu.py: note: no kernel count from the profiler (%s)" % error)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output JSON file")
    parser.add_argument("--quick", action="store_true", help="fewer shapes (for a smoke test)")
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help="comma-separated sections to measure (default: all): " + ", ".join(SECTIONS))
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in only if name not in SECTIONS]
    if unknown or not only:
        parser.error("--only: unknown section(s) %s; expected some of %s" % (", ".join(unknown), ", ".join(SECTIONS)))
    if not torch.cuda.is_available():
        raise SystemExit("profile_gpu.py: no CUDA GPU visible to PyTorch (torch %s, CUDA build %s); "
                         "run this on a machine with an NVIDIA GPU" % (torch.__version__, torch.version.cuda))
    torch.backends.cuda.matmul.allow_tf32 = False
    idle = power_watts("power.draw")  # before any work
    ms_list = [1, 128, 2048] if args.quick else GEMM_M
    prefill_s = PREFILL_S[:2] if args.quick else PREFILL_S
    decode_bc = DECODE_BC[:3] if args.quick else DECODE_BC
    result = {
        "reference_engine": {
            "gemm_notation": "y = x W^T with x [M, K], W [N, K], bf16 in and out; ms is the median time of one "
                             "call; three weight copies are rotated so W is not served from L2. graph_ms is the "
                             "GPU-only time of one call: graph_calls calls replayed from one CUDA graph, median "
                             "replay time / graph_calls.",
        },
        "env": bench_env(),
    }
    if "gemm" in only:
        result["gemm"] = bench_gemm(ms_list)
    if "gemm_8192" in only:
        result["gemm_8192_tflops"] = bench_gemm_8192()
    if "hbm" in only:
        result["hbm_copy_GBps_rw"], result["hbm_read_GBps"] = bench_hbm()
    if "host_link" in only:
        result["host_link"] = bench_host_link()
    if "launch" in only:
        result["launch"] = bench_launch()
        result["launch"].update(bench_eager_engine(passes=50 if args.quick else 300))
    if "attention" in only:
        result["attention"] = bench_attention(prefill_s, decode_bc)
        decode = [r for r in result["attention"] if r["kind"] == "decode"]
        impl = "sdpa" if sum(r["sdpa_ms"] for r in decode) <= sum(r["bmm_ms"] for r in decode) else "bmm"
        result["decode_attention_impl"] = impl
        for r in decode:
            r["graph_ms"] = r[impl + "_graph_ms"]
    if "whole_model" in only:
        result.update(bench_whole_model(args.quick))
    limit = power_watts("power.limit")
    if limit is not None:
        result["power_limit_w"] = limit
    if idle is not None:
        result["idle_power_w"] = idle
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print("profile_gpu.py: wrote", args.out)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Measure the GPU microbenchmarks servesim calibrates from, on your own GPU.

Writes one JSON file in the format of ../shared/calibration/*.json (the format
`servesim calibrate FILE.json` reads):

  env              GPU name, SM count, memory, L2, nvidia-smi line, host CPU
  gemm             y = x W^T (x [M, K], W [N, K], bf16) for Llama-shaped layers, M = 1 .. 8192
  gemm_8192_tflops one 8192^3 product
  hbm_copy_GBps_rw device-to-device copy (bytes read + written per second)
  hbm_read_GBps    a sum reduction (bytes read per second)
  host_link        pinned and pageable host<->device copies, both directions
  launch           eager_tiny_op_us (host cost of one tiny eager op) and
                   graph_tiny_kernel_us (GPU time of one tiny kernel replayed from a CUDA graph)
  attention        causal prefill SDPA (32 heads x 128) and decode attention (32 query heads,
                   8 KV heads) as grouped bmm and as SDPA with enable_gqa
  power_limit_w, idle_power_w (from NVML / nvidia-smi when available)

Usage: python3 tools/profile_gpu.py --out my_gpu.json [--quick]
Then:  servesim calibrate my_gpu.json --hardware h100-sxm --out models/execution/calibrations/my-gpu.json

Requires PyTorch with CUDA. Timings are medians of repeated runs measured with CUDA events.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import time

import torch
import torch.nn.functional as F

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
        for m in ms_list:
            x = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
            state = {"i": 0}

            def run():
                state["i"] = (state["i"] + 1) % 3
                torch.matmul(x, weights[state["i"]].t())

            ms = median_ms(run)
            flops = 2.0 * m * n * k
            bytes_moved = 2.0 * (m * k + n * k + m * n)
            rows.append({"name": name, "M": m, "N": n, "K": k, "ms": ms,
                         "tflops": flops / (ms * 1e-3) / 1e12, "gbps": bytes_moved / (ms * 1e-3) / 1e9})
            del x
        del weights
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
        flops = 4.0 * s * s * heads * head_dim / 2.0  # causal half
        rows.append({"kind": "prefill_causal", "B": 1, "S": s, "ms": ms, "tflops": flops / (ms * 1e-3) / 1e12})
        del q, k, v
    group = heads // kv_heads
    for b, c in decode_bc:
        q = torch.randn(b, heads, 1, head_dim, device="cuda", dtype=torch.bfloat16)
        k = torch.randn(b, kv_heads, c, head_dim, device="cuda", dtype=torch.bfloat16)
        v = torch.randn_like(k)
        kv_bytes = 2 * b * kv_heads * c * head_dim * 2

        def bmm():
            qg = q.view(b, kv_heads, group, head_dim)
            scores = torch.matmul(qg, k.transpose(-1, -2)) / head_dim ** 0.5
            torch.matmul(torch.softmax(scores.float(), dim=-1).to(v.dtype), v)

        bmm_ms = median_ms(bmm)
        sdpa_ms = median_ms(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True))
        rows.append({"kind": "decode", "B": b, "C": c, "kv_bytes": kv_bytes,
                     "bmm_ms": bmm_ms, "bmm_GBps": kv_bytes / (bmm_ms * 1e-3) / 1e9,
                     "sdpa_ms": sdpa_ms, "sdpa_GBps": kv_bytes / (sdpa_ms * 1e-3) / 1e9})
        del q, k, v
        torch.cuda.empty_cache()
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="output JSON file")
    parser.add_argument("--quick", action="store_true", help="fewer shapes (for a smoke test)")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("profile_gpu.py: no CUDA GPU visible to PyTorch")
    torch.backends.cuda.matmul.allow_tf32 = False
    idle = power_watts("power.draw")  # before any work
    ms_list = [1, 128, 2048] if args.quick else GEMM_M
    prefill_s = PREFILL_S[:2] if args.quick else PREFILL_S
    decode_bc = DECODE_BC[:3] if args.quick else DECODE_BC
    result = {
        "reference_engine": {
            "gemm_notation": "y = x W^T with x [M, K], W [N, K], bf16 in and out; ms is the median time of one "
                             "call; three weight copies are rotated so W is not served from L2.",
        },
        "env": bench_env(),
    }
    result["gemm"] = bench_gemm(ms_list)
    result["gemm_8192_tflops"] = bench_gemm_8192()
    result["hbm_copy_GBps_rw"], result["hbm_read_GBps"] = bench_hbm()
    result["host_link"] = bench_host_link()
    result["launch"] = bench_launch()
    result["attention"] = bench_attention(prefill_s, decode_bc)
    decode = [r for r in result["attention"] if r["kind"] == "decode"]
    result["decode_attention_impl"] = (
        "sdpa" if sum(r["sdpa_ms"] for r in decode) <= sum(r["bmm_ms"] for r in decode) else "bmm")
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
